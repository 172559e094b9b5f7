package scenario

import (
	"reflect"
	"slices"
	"testing"
)

func TestFileRefs(t *testing.T) {
	e := &Entity{
		Args: []string{"--ca", "$CERTS/ca.pem", "--both=$CERTS/a.pem,$CERTS/a.key", "--root=file:www/x", "plain", "file:data.bin"},
		Env:  map[string]string{"Z": "$CERTS/z.ocsp", "A": "file:a b.txt", "M": "no refs: $CERT/x"},
	}
	want := []FileRef{
		{Kind: RefCert, Name: "ca.pem", Arg: 1, Off: 0, Len: 13},
		{Kind: RefCert, Name: "a.pem", Arg: 2, Off: 7, Len: 12},
		{Kind: RefCert, Name: "a.key", Arg: 2, Off: 20, Len: 12},
		{Kind: RefFile, Name: "www/x", Arg: 3, Off: 7, Len: 10},
		{Kind: RefFile, Name: "data.bin", Arg: 5, Off: 0, Len: 13},
		{Kind: RefFile, Name: "a b.txt", Arg: -1, Env: "A", Off: 0, Len: 12},
		{Kind: RefCert, Name: "z.ocsp", Arg: -1, Env: "Z", Off: 0, Len: 13},
	}
	got := e.FileRefs()
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("FileRefs() =\n%+v\nwant\n%+v", got, want)
	}
	if got[0].Key() != "$CERTS/ca.pem" || got[3].Key() != "file:www/x" || got[2].Where() != "args[2]" || got[5].Where() != "env A" {
		t.Errorf("Key/Where wrong: %q %q %q %q", got[0].Key(), got[3].Key(), got[2].Where(), got[5].Where())
	}
	fds := map[string]int{}
	args, env := e.ExpandRefs(func(r FileRef) int {
		if _, ok := fds[r.Key()]; !ok {
			fds[r.Key()] = 4 + len(fds)
		}
		return fds[r.Key()]
	})
	wantArgs := []string{"--ca", "fd:4", "--both=fd:5,fd:6", "--root=fd:7", "plain", "fd:8"}
	wantEnv := []string{"A=fd:9", "M=no refs: $CERT/x", "Z=fd:10"}
	if !slices.Equal(args, wantArgs) || !slices.Equal(env, wantEnv) {
		t.Errorf("ExpandRefs() = %q, %q; want %q, %q", args, env, wantArgs, wantEnv)
	}
	if e.Args[1] != "$CERTS/ca.pem" {
		t.Error("ExpandRefs changed the entity's args")
	}
}

func TestCertFiles(t *testing.T) {
	s := &Scenario{Certs: []Cert{{Name: "cloud"}}}
	want := []string{"ca.pem", "crl.pem", "other-ca.pem", "cloud.pem", "cloud.key", "cloud.ocsp"}
	if got := s.CertFiles(); !slices.Equal(got, want) {
		t.Errorf("CertFiles() = %v, want %v", got, want)
	}
}
