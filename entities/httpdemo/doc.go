// Package httpdemo holds two plain net/http programs that run as entities
// unchanged but for where their sockets and files come from: the client API
// of package posix, over the backends their environment names.
//
//	capsim:http-server  net/http FileServer over the file backend's fs.FS,
//	                    listening through the network backend
//	capsim:http-client  net/http Client dialling through the network backend
package httpdemo
