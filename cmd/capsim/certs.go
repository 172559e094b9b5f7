package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/netip"
	"strings"
	"time"

	"capsim/certs"
)

const certsUsage = `usage: capsim certs -o DIR [--host NAME=ADDR[,ADDR...]]... NAME[:OPT,...]...`

const certsHelp = certsUsage + `

Certs writes a scenario CA and one leaf certificate per NAME into DIR, as a
scenario's certs list does at run time: ca.pem, NAME.pem, NAME.key,
NAME.ocsp (a DER OCSP response, good or revoked), crl.pem (the revoked
leaves) and other-ca.pem when an entry uses issuer=other. Keys are ECDSA
P-256. The names ca, other-ca and crl are reserved.

Options of an entry, comma-separated after a colon:
  host=H           make the leaf for host H (repeatable): H's name and the
                   addresses given by --host H=... become its SANs; an
                   address literal becomes an IP SAN
  not_after=D      validity ends at now+D ("-1h": expired)
  not_before=D     validity starts at now+D ("+1h": not yet valid)
  issuer=other     sign with the second CA (other-ca.pem)
  revoked          list in crl.pem; its OCSP response says revoked
  usage=U          extended key usage: server or client (default both)

Flags:
  -o DIR           output folder (created if needed)
  --host N=A,...   addresses of host N (repeatable)

Example:
  capsim certs -o /tmp/certs --host cloud=10.0.0.2,fd00::2 \
      cloud:host=cloud old:host=cloud,not_after=-1h rogue:host=cloud,issuer=other \
      revoked:host=cloud,revoked

Exit status: 0 written, 1 generation failed, 2 usage error.
`

// certsHostFlag collects repeated --host NAME=ADDR,... values.
type certsHostFlag map[string][]netip.Addr

func (h certsHostFlag) String() string { return "" }

func (h certsHostFlag) Set(v string) error {
	name, addrs, ok := strings.Cut(v, "=")
	if !ok || name == "" || addrs == "" {
		return fmt.Errorf("want NAME=ADDR[,ADDR...], got %q", v)
	}
	for _, s := range strings.Split(addrs, ",") {
		a, err := netip.ParseAddr(s)
		if err != nil {
			return fmt.Errorf("host %s: %w", name, err)
		}
		h[name] = append(h[name], a)
	}
	return nil
}

func runCerts(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	usageErr := func(msg string) int {
		fmt.Fprintf(stderr, "capsim certs: %s\n%s\nRun 'capsim certs -h' for details.\n", msg, certsUsage)
		return 2
	}
	fs := flag.NewFlagSet("capsim certs", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	out := fs.String("o", "", "output folder")
	hosts := certsHostFlag{}
	fs.Var(hosts, "host", "addresses of a host")
	names, err := parseInterspersed(fs, args)
	if errors.Is(err, flag.ErrHelp) {
		fmt.Fprint(stderr, certsHelp)
		return 0 // asked for: not a usage error
	}
	if err != nil {
		return usageErr(err.Error())
	}
	if *out == "" {
		return usageErr("missing -o DIR")
	}
	if len(names) == 0 {
		return usageErr("no certificate named")
	}
	specs := make([]certs.Spec, 0, len(names))
	for _, n := range names {
		s, err := certs.ParseSpec(n)
		if err != nil {
			return usageErr(err.Error())
		}
		specs = append(specs, s)
	}
	if err := ctx.Err(); err != nil {
		fmt.Fprintf(stderr, "capsim: certs: %v\n", err)
		return 1
	}
	set, err := certs.Generate(*out, specs, hosts, time.Now())
	if err != nil {
		fmt.Fprintf(stderr, "capsim: %v\n", err)
		return 1
	}
	for _, f := range set.Files() {
		p, _ := set.Path(f)
		fmt.Fprintln(stdout, p)
	}
	return 0
}
