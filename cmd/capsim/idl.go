package main

import (
	"context"
	"io"

	"capsim/idl/idlcmd"
)

// runIDL runs "capsim idl gen|check|show ..." (package idl/idlcmd) and
// returns the exit code.
func runIDL(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	return idlcmd.Run(ctx, args, stdout, stderr)
}
