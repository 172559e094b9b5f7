package certs

import (
	"reflect"
	"strings"
	"testing"
)

func TestParseSpec(t *testing.T) {
	tests := []struct {
		arg  string
		want Spec
		err  string
	}{
		{"cloud", Spec{Name: "cloud"}, ""},
		{"cloud:host=cloud", Spec{Name: "cloud", Hosts: []string{"cloud"}}, ""},
		{"old:host=a,host=b,not_after=-1h", Spec{Name: "old", Hosts: []string{"a", "b"}, NotAfter: "-1h"}, ""},
		{"early:not_before=+1h", Spec{Name: "early", NotBefore: "+1h"}, ""},
		{"rogue:issuer=other", Spec{Name: "rogue", Issuer: "other"}, ""},
		{"r:revoked,usage=client", Spec{Name: "r", Revoked: true, Usage: "client"}, ""},
		{"ca", Spec{}, "reserved"},
		{"x:revoked=yes", Spec{}, "takes no value"},
		{"x:host", Spec{}, "needs a value"},
		{"x:color=red", Spec{}, "unknown option"},
		{"x:not_after=soon", Spec{}, "bad duration"},
		{"X", Spec{}, "bad certificate name"},
	}
	for _, tt := range tests {
		t.Run(tt.arg, func(t *testing.T) {
			got, err := ParseSpec(tt.arg)
			if tt.err != "" {
				if err == nil || !strings.Contains(err.Error(), tt.err) {
					t.Fatalf("err = %v, want %q", err, tt.err)
				}
				return
			}
			if err != nil || !reflect.DeepEqual(got, tt.want) {
				t.Fatalf("got %+v, %v; want %+v", got, err, tt.want)
			}
		})
	}
}

func FuzzParseSpec(f *testing.F) {
	for _, s := range []string{"cloud", "old:host=cloud,not_after=-1h", "r:revoked", "x:issuer=other,usage=server", "a:=,,", "b:not_before=+1h,not_after=+30m"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, arg string) {
		s, err := ParseSpec(arg)
		if err != nil {
			return
		}
		if err := s.Validate(); err != nil {
			t.Fatalf("ParseSpec accepted %q but Validate says %v", arg, err)
		}
		if reserved[s.Name] {
			t.Fatalf("reserved name %q accepted", s.Name)
		}
	})
}
