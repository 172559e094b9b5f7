// Package idl is capsim's interface language: IDL packages (typed methods
// and types), EDL task classes (the endpoints an entity serves) and CDL
// components, as KasperskyOS describes entities.
//
// The front end runs in stages — scanner, parser (an AST), checker (the IR
// of ir.go) — and reports every problem as a positioned diag.Error
// ("file:line:col: message") in a sorted diag.List. A Loader finds files
// below search roots (package a.b.C lives in a/b/C.idl), checks them and
// caches the result; BuiltinRoot holds the built-in files under kl/,
// capsim/ and demo/. Nesting is bounded (1000 levels, as in package
// policy): of parentheses, operators and generics in the parser, of
// declarations that use later ones and of types that hold types in the
// checker, so that a hostile file ends in an error, not a stack overflow.
//
// The wire codec (Decode, Encode, Validate, Zero, MaxSize) is what the
// kernel uses to validate every message: compact, deterministic,
// little-endian, bounds-checked, and never allocating more than the bytes
// present justify. Generated Go code (package idl/gen/golang) uses the
// primitives of package idl/wire for the same format:
//
//	UIntN, SIntN   N/8 bytes, little-endian
//	Bool           one byte, 0 or 1
//	Handle         u32 index into the message's handle slots
//	bytes, string  u32 length (≤ bound) + bytes (a string is UTF-8)
//	array<T,N>     N elements back to back
//	sequence<T,N>  u32 count (≤ N) + elements
//	struct         fields in order
//	union          u32 tag (< number of variants) + the variant
package idl
