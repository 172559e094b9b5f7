// Package testapi holds Go code generated from idl/testdata/ok (go test
// ./idl/gen/golang -update rewrites it): the goldens of the generator, and
// real packages that the round-trip tests and BenchmarkCodec compile and
// run.
package testapi
