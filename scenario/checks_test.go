package scenario

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"capsim/diag"
)

// twoLinks is a network of three linked hosts on two links and one
// unlinked host without addresses, for the forward and egress checks.
const twoLinks = `
[[host]]
name = "a"
addresses = ["10.0.0.1/24"]
[[host]]
name = "b"
addresses = ["10.0.0.2/24"]
[[host]]
name = "c"
addresses = ["10.1.0.1/24"]
[[host]]
name = "d"
addresses = ["10.1.0.2/24"]
[[host]]
name = "lone"
[[link]]
name = "wan"
hosts = ["a", "b"]
[[link]]
name = "lan"
hosts = ["c", "d"]
[[entity]]
task = "a-net"
class = "capsim.Netstack"
host = "a"
[[entity]]
task = "b-net"
class = "capsim.Netstack"
host = "b"
[[entity]]
task = "c-net"
class = "capsim.Netstack"
host = "c"
[[entity]]
task = "d-net"
class = "capsim.Netstack"
host = "d"
`

// TestChecksBeforeStart checks errors that the loader reports, with their
// position, rather than run when it sets the scenario up. Line numbers in
// want count from the end of prefix.
func TestChecksBeforeStart(t *testing.T) {
	tests := []struct {
		name, prefix, src string
		dirs              []string // folders made in the scenario folder
		want              []string
	}{
		{
			name: "cpu below zero",
			src:  "[[entity]]\ntask = \"s\"\nclass = \"demo.EchoServer\"\nlimits = { cpu = \"-5%\" }\n",
			want: []string{`4:12: key "cpu" in [[entity]].limits: bad percentage "-5%": must not be negative`},
		},
		{
			name: "certs placeholder without certs",
			src: "[[entity]]\ntask = \"s\"\nclass = \"demo.EchoServer\"\nargs = [\"--ca\", \"$CERTS/ca.pem\"]\n" +
				"env = { K = \"$CERTS/crl.pem\" }\n",
			want: []string{
				`4:1: entity "s": args[1]: $CERTS/ca.pem: the scenario makes no certificates (give certs)`,
				`5:1: entity "s": env K: $CERTS/crl.pem: the scenario makes no certificates (give certs)`,
			},
		},
		{
			name: "idl_path folder missing",
			src:  "idl_path = [\"idl\", \"nope\", \"file.txt\"]\n",
			dirs: []string{"idl"},
			want: []string{
				`1:1: idl_path "file.txt": no such folder in the scenario`,
				`1:1: idl_path "nope": no such folder in the scenario`,
			},
		},
		{
			name:   "forward to a host on no link",
			prefix: twoLinks,
			src:    "[[forward]]\nlisten = \"127.0.0.1:8443\"\nto = \"lone:443\"\n",
			want:   []string{`3:1: [[forward]]: to "lone": the host is on no link`},
		},
		{
			name:   "egress for hosts on no link",
			prefix: twoLinks,
			src:    "[[egress]]\nhosts = [\"lone\"]\naddress = \"10.0.0.250:1\"\nto = \"127.0.0.1:1\"\n",
			want:   []string{`2:1: [[egress]]: host "lone" is on no link`},
		},
		{
			name:   "egress for hosts on two links",
			prefix: twoLinks,
			src:    "[[egress]]\nhosts = [\"a\", \"c\"]\naddress = \"10.0.0.250:1\"\nto = \"127.0.0.1:1\"\n",
			want:   []string{`2:1: [[egress]]: host "c" is on link "lan", host "a" on "wan"; an egress serves the hosts of one link`},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			for _, d := range tt.dirs {
				if err := os.Mkdir(filepath.Join(dir, d), 0o755); err != nil {
					t.Fatal(err)
				}
			}
			if err := os.WriteFile(filepath.Join(dir, "file.txt"), nil, 0o644); err != nil {
				t.Fatal(err)
			}
			_, err := Parse("s.toml", dir, []byte(tt.prefix+tt.src))
			var list diag.List
			if !errors.As(err, &list) {
				t.Fatalf("Parse = %v, want a diag.List", err)
			}
			offset := strings.Count(tt.prefix, "\n")
			var got []string
			for _, e := range list {
				e.Pos.Line -= offset
				got = append(got, strings.TrimPrefix(e.Error(), "s.toml:"))
			}
			if strings.Join(got, "\n") != strings.Join(tt.want, "\n") {
				t.Errorf("errors:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(tt.want, "\n"))
			}
		})
	}
}
