package golang

import (
	"go/token"
	"strings"
	"unicode"
)

// Go names for IDL names.

// exported turns an IDL name into an exported Go name: mtime_ns → MtimeNs,
// fd → Fd, main → Main.
func exported(name string) string {
	var b strings.Builder
	for _, part := range strings.Split(name, "_") {
		if part == "" {
			continue
		}
		r := []rune(part)
		r[0] = unicode.ToUpper(r[0])
		b.WriteString(string(r))
	}
	if b.Len() == 0 {
		return "X"
	}
	if s := b.String(); !unicode.IsLetter([]rune(s)[0]) {
		return "X" + s // _1x: a Go name cannot start with a digit
	}
	return b.String()
}

// lowerCamel turns an IDL parameter name into a Go local name: mtime_ns →
// mtimeNs, Fd → fd.
func lowerCamel(name string) string {
	s := []rune(exported(name))
	s[0] = unicode.ToLower(s[0])
	return string(s)
}

// predeclared are Go's predeclared identifiers, which a parameter must not
// shadow in generated code.
var predeclared = map[string]bool{
	"any": true, "append": true, "bool": true, "byte": true, "cap": true, "clear": true, "close": true,
	"comparable": true, "complex": true, "complex64": true, "complex128": true, "copy": true,
	"delete": true, "error": true, "false": true, "float32": true, "float64": true, "imag": true,
	"int": true, "int8": true, "int16": true, "int32": true, "int64": true, "iota": true, "len": true,
	"make": true, "max": true, "min": true, "new": true, "nil": true, "panic": true, "print": true,
	"println": true, "real": true, "recover": true, "rune": true, "string": true, "true": true,
	"uint": true, "uint8": true, "uint16": true, "uint32": true, "uint64": true, "uintptr": true,
}

// reservedLocals are the names generated method bodies use (and the
// package-level helper replyInvalid they call); loop variables are i0, n0,
// i1, ... (see generatedLoopVar).
var reservedLocals = map[string]bool{
	"ctx": true, "err": true, "c": true, "d": true, "e": true, "r": true, "s": true, "req": true,
	"rep": true, "pe": true, "status": true, "ipc": true, "wire": true, "context": true,
	"errors": true, "fmt": true, "syscall": true, "dec": true, "encErr": true, "replyInvalid": true,
}

// generatedLoopVar reports whether n has the form of a generated loop
// variable or length, i<N> or n<N>.
func generatedLoopVar(n string) bool {
	if len(n) < 2 || n[0] != 'i' && n[0] != 'n' {
		return false
	}
	for _, c := range n[1:] {
		if c < '0' || c > '9' {
			return false
		}
	}
	return true
}

// paramName is the Go name of a parameter, renamed with trailing '_'s
// while it is a keyword, a predeclared identifier, a generated local, an
// imported package's name or the name of a parameter before it (taken).
func paramName(name string, imports, taken map[string]bool) string {
	n := lowerCamel(name)
	for token.IsKeyword(n) || predeclared[n] || reservedLocals[n] || imports[n] || generatedLoopVar(n) || taken[n] {
		n += "_"
	}
	return n
}

// packageName is the Go package name of an IDL package: its last element
// in lower case (capsim.Socket → socket).
func packageName(idlName string) string {
	n := strings.ToLower(idlName[strings.LastIndexByte(idlName, '.')+1:])
	if token.IsKeyword(n) || predeclared[n] || n == "main" { // main would be a program
		n += "idl"
	}
	return n
}

// stdNames are the names of the standard library's packages (go list std
// of Go 1.26, less internal, vendor, go/... and debug/..., which a program
// beside the bindings hardly imports: test.Types is not go/types). A
// generated package of one of these names (my.Log → log) is kept, since
// its directory says it, but warned about: a file that imports both must
// rename one.
var stdNames = map[string]bool{}

func init() {
	for _, n := range strings.Fields(`
	adler32 aes ascii85 asn1 atomic base32 base64 big binary bits bufio
	bytes bzip2 cgi cgo cipher cmp cmplx color context cookiejar
	coverage crc32 crc64 crypto cryptotest csv debug des draw driver
	dsa ecdh ecdsa ed25519 elliptic embed encoding errors exec expvar
	fcgi filepath fips140 flag flate fmt fnv fs fstest gif gob gzip
	hash heap hex hkdf hmac hpke html http httptest httptrace httputil
	image io iotest ioutil iter jpeg json jsonrpc list log lzw mail
	maphash maps math md5 metrics mime mlkem mlkemtest multipart net
	netip os palette path pbkdf2 pem pkix plugin png pprof quick
	quotedprintable race rand rc4 reflect regexp ring rpc rsa runtime
	scanner sha1 sha256 sha3 sha512 signal slices slog slogtest smtp
	sort sql strconv strings structs subtle suffixarray sync synctest
	syscall syslog tabwriter tar template testing textproto time tls
	trace tzdata unicode unique unsafe url user utf16 utf8 weak x509
	xml zip zlib
`) {
		stdNames[n] = true
	}
}

// capsimNames are capsim's packages that an entity program imports beside
// the bindings.
var capsimNames = map[string]string{"ipc": "capsim/ipc", "entities": "capsim/entities"}

// shadowed says which package a generated package named name shadows ("a
// standard library package", "capsim/ipc"), or "".
func shadowed(name string) string {
	if stdNames[name] {
		return "a standard library package"
	}
	return capsimNames[name]
}

// PackageDir is the directory below OUT of an IDL package's Go package:
// its name in lower case with dots as slashes (kl.core.Locator →
// kl/core/locator).
func PackageDir(idlName string) string {
	parts := strings.Split(strings.ToLower(idlName), ".")
	parts[len(parts)-1] = packageName(idlName)
	return strings.Join(parts, "/")
}

// FileName is the name of the generated file in PackageDir.
func FileName(idlName string) string { return packageName(idlName) + ".idl.go" }
