// Package diag holds the positions and error lists that capsim's two
// languages (IDL/EDL/CDL in package idl, PSL/PAL in package policy) and the
// scenario loader share.
//
// As in go/token and go/scanner, an error keeps its position as data and
// becomes "file:line:col: message" only when printed; a List collects every
// error of a stage, sorts them and reports them together.
package diag
