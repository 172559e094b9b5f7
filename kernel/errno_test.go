package kernel

import (
	"testing"

	"capsim/idl"
)

func TestErrnoOf(t *testing.T) {
	params := func(name string, v any) *idl.StructValue {
		return &idl.StructValue{Type: &idl.Type{Fields: []*idl.Field{{Name: name}}}, Fields: []any{v}}
	}
	tests := []struct {
		msg  *idl.StructValue
		want string
	}{
		{params("errno", uint64(111)), "ECONNREFUSED"},
		{params("errno", uint64(13)), "EACCES"},
		{params("errno", int64(11)), "EAGAIN"},
		{params("errno", uint64(0)), "0"},
		{params("errno", uint64(4000)), "4000"}, // no name
		{params("errno", uint64(1<<40)), "1099511627776"},
		{params("errno", int64(-5)), "-5"},
		{params("errno", "EPERM"), ""},       // not an integer
		{params("code", uint64(1)), "EPERM"}, // the one error parameter
		{&idl.StructValue{Type: &idl.Type{Fields: []*idl.Field{{Name: "code"}, {Name: "detail"}}}, Fields: []any{uint64(1), "x"}}, ""},
		{&idl.StructValue{Type: &idl.Type{Fields: []*idl.Field{{Name: "errno"}, {Name: "detail"}}}, Fields: []any{uint64(2), "x"}}, "ENOENT"},
		{nil, ""},
	}
	for _, tt := range tests {
		if got := errnoOf(tt.msg); got != tt.want {
			t.Errorf("errnoOf(%v) = %q, want %q", tt.msg, got, tt.want)
		}
	}
}
