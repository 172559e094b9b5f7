package plugin

import (
	"net/netip"
	"strings"
	"syscall"
	"testing"
	"time"

	"capsim/certs"
)

func TestParsePin(t *testing.T) {
	var p Pin
	for i := range p {
		p[i] = byte(i)
	}
	tests := []struct {
		in   string
		want Pin
		err  bool
	}{
		{p.String(), p, false},
		{"sha256/" + strings.TrimPrefix(p.String(), "sha256//"), p, false},
		{"000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f", p, false},
		{"sha256//AAAA", Pin{}, true},
		{"abcd", Pin{}, true},
		{"sha1//" + strings.TrimPrefix(p.String(), "sha256//"), Pin{}, true},
	}
	for _, tt := range tests {
		got, err := ParsePin(tt.in)
		if (err != nil) != tt.err || (!tt.err && got != tt.want) {
			t.Errorf("ParsePin(%q) = %v, %v", tt.in, got, err)
		}
	}
}

func TestNameMatches(t *testing.T) {
	tests := []struct {
		pattern, name string
		want          bool
	}{
		{"cloud", "cloud", true},
		{"cloud", "CLOUD", true},
		{"cloud", "cloud.", true},
		{"cloud", "cloud2", false},
		{"*.example.com", "www.example.com", true},
		{"*.example.com", "example.com", false},
		{"*.example.com", "a.b.example.com", false},
		{"*.example.com", ".example.com", false},
		{"10.0.0.2", "10.0.0.2", true},
		{"10.0.0.2", "::ffff:10.0.0.2", true},
		{"10.0.0.2", "10.0.0.3", false},
		{"10.0.0.2", "cloud", false},
	}
	for _, tt := range tests {
		if got := nameMatches(tt.pattern, tt.name); got != tt.want {
			t.Errorf("nameMatches(%q, %q) = %v", tt.pattern, tt.name, got)
		}
	}
}

func TestPolicy(t *testing.T) {
	set, err := certs.Generate(t.TempDir(), []certs.Spec{{Name: "cloud", Hosts: []string{"cloud"}}, {Name: "rogue", Hosts: []string{"cloud"}, Issuer: "other"}}, nil, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	leaf, rogue, ca := SPKIPin(set.Leaves["cloud"].Cert), SPKIPin(set.Leaves["rogue"].Cert), SPKIPin(set.CA.Cert)
	p, err := ParseArgs([]string{"--allow-name", "cloud", "--allow-name", "*.example.com", "--allow-name", "10.0.0.9",
		"--pin", "cloud=" + leaf.String(), "--pin", "www.example.com=" + ca.String()})
	if err != nil {
		t.Fatal(err)
	}
	addr := netip.MustParseAddrPort("10.0.0.2:443")
	connects := []struct {
		host string
		addr netip.AddrPort
		want bool
	}{
		{"cloud", addr, true},
		{"api.example.com", addr, true},
		{"evil", addr, false},
		{"", netip.MustParseAddrPort("10.0.0.9:443"), true},
		{"", addr, false},
	}
	for _, c := range connects {
		d := p.BeforeConnect(c.host, c.addr)
		if d.Allow != c.want || (!d.Allow && (d.Errno != syscall.EACCES || d.Reason == "")) {
			t.Errorf("BeforeConnect(%q, %v) = %+v", c.host, c.addr, d)
		}
	}
	handshakes := []struct {
		name   string
		chain  []Pin
		verify uint32
		want   bool
	}{
		{"cloud", []Pin{leaf, ca}, 0, true},
		{"cloud", []Pin{rogue}, 0, false},             // pinned name, other key
		{"www.example.com", []Pin{leaf, ca}, 0, true}, // pinned to the CA key
		{"www.example.com", []Pin{rogue}, 0, false},
		{"api.example.com", []Pin{rogue}, 0, true}, // allowed and not pinned
		{"cloud", []Pin{leaf}, 0x2, false},         // a failed verification stays failed
		{"evil", []Pin{leaf}, 0, false},
	}
	for _, h := range handshakes {
		if d := p.AfterHandshake(h.name, h.chain, h.verify); d.Allow != h.want {
			t.Errorf("AfterHandshake(%q, %v, %#x) = %+v", h.name, h.chain, h.verify, d)
		}
	}
	star := &Policy{Pins: map[string][]Pin{"*": {ca}}}
	if !star.AfterHandshake("any", []Pin{leaf, ca}, 0).Allow || star.AfterHandshake("any", []Pin{rogue}, 0).Allow {
		t.Error("pin for * not applied to every name")
	}
	if !(&Policy{}).BeforeConnect("anything", addr).Allow {
		t.Error("an empty allow-list must allow every name")
	}
}

func TestParseArgsErrors(t *testing.T) {
	for _, args := range [][]string{
		{"--pin", "cloud"},
		{"--pin", "=sha256//AAAA"},
		{"--pin", "cloud=nothex"},
		{"--allow-name", ""},
		{"--bogus"},
		{"positional"},
	} {
		if _, err := ParseArgs(args); err == nil {
			t.Errorf("ParseArgs(%q): want an error", args)
		}
	}
}

func FuzzParsePin(f *testing.F) {
	f.Add("sha256//AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=")
	f.Add("000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f")
	f.Add("sha256/")
	f.Fuzz(func(t *testing.T, s string) {
		p, err := ParsePin(s)
		if err != nil {
			return
		}
		q, err := ParsePin(p.String())
		if err != nil || q != p {
			t.Fatalf("round trip of %q: %v, %v", s, q, err)
		}
	})
}
