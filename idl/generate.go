package idl

// Regenerate the Go bindings of the built-in interfaces in api/ (go test
// ./idl/gen/golang checks that they are up to date; -update there rewrites
// them and the test bindings in idl/internal/testapi).
//
//go:generate go run capsim/cmd/capsim idl gen -I . -o ../api capsim demo kl
