// Package idlcmd is the "capsim idl" command: gen (Go bindings), check
// (positioned diagnostics, exit 2 on errors; for IDL packages also the
// generator's name checks, golang.Check, so that what check passes gen
// accepts) and show (an interface or
// class with its method and endpoint numbers). cmd/capsim calls Run.
package idlcmd
