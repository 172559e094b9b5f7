package plugin

import (
	"reflect"
	"strings"
	"testing"
)

// FuzzParseArgs parses arbitrary flag lines: no panic, and a policy that
// parses, written back as flags, parses to the same policy.
func FuzzParseArgs(f *testing.F) {
	for _, s := range []string{
		"--allow-name cloud --allow-name *.example.org",
		"--pin cloud=sha256//AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=",
		"--pin *=000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f --allow-name=10.0.0.2",
		"--pin =x", "--allow-name", "-h", "extra",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, line string) {
		p, err := ParseArgs(strings.Fields(line))
		if err != nil {
			if !strings.HasPrefix(err.Error(), "tls plug-in: ") {
				t.Fatalf("error %q does not name the plug-in", err)
			}
			return
		}
		var args []string
		for _, n := range p.Names {
			args = append(args, "--allow-name="+n)
		}
		for name, pins := range p.Pins {
			for _, pin := range pins {
				args = append(args, "--pin="+name+"="+pin.String())
			}
		}
		q, err := ParseArgs(args)
		if err != nil || !reflect.DeepEqual(p, q) {
			t.Fatalf("%q parses to %+v, written back as %q to %+v, %v", line, p, args, q, err)
		}
	})
}
