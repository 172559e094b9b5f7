// Package plugin is the logic of capsim's example TLS terminator plug-in
// (interface capsim.TlsPlugin, idl/capsim/TlsPlugin.idl): an SNI allow-list
// and certificate pinning.
//
// BeforeConnect allows a connection only to an allowed name (exact, or
// "*.example.com" for one label under example.com; address literals
// compare as addresses). AfterHandshake allows a session only if some
// certificate of the peer's chain has a pinned SubjectPublicKeyInfo
// SHA-256 for the server name (or for "*"), in the HPKP/curl spelling
// "sha256//BASE64" or as 64 hex digits. Names without pins are not pinned.
// A deny carries EACCES and a reason for the log.
//
// The plug-in entity program (serving the generated interface) wraps a
// Policy; this package has no IPC in it, so it is tested directly.
package plugin
