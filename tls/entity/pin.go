package entity

import (
	"context"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"strings"

	"capsim/api/capsim/tlsplugin"
	"capsim/entities"
	"capsim/tls/plugin"
)

// PinProgram is capsim:tls-pin, the example plug-in: an SNI allow-list and
// certificate pinning, served over capsim.TlsPlugin to the terminators
// that name it with --plugin.
func PinProgram() *entities.Program {
	return &entities.Program{Name: "tls-pin", Class: "demo.TlsPin",
		Summary: "TLS terminator plug-in: SNI allow-list and certificate (SPKI) pinning",
		Usage: `capsim:tls-pin [--allow-name PATTERN]... [--pin NAME=sha256//BASE64]... [--pin-cert NAME=FILE]...
  --allow-name   server names the terminator may connect to ("*.example.com" allowed)
  --pin          the SPKI SHA-256 a name's certificate must have
  --pin-cert     the same, read from a certificate file ($CERTS/cloud.pem)
  denies with EACCES; prints one line per denial`,
		Run: runPin}
}

func runPin(ctx context.Context, rt *entities.Runtime, args []string) int {
	args, err := expandPinCerts(args)
	if err != nil {
		fmt.Fprintf(rt.Stderr(), "tls-pin: %v\n", err)
		return 2
	}
	pol, err := plugin.ParseArgs(args)
	if err != nil {
		fmt.Fprintf(rt.Stderr(), "tls-pin: %v\n", err)
		return 2
	}
	if err := rt.Handle(tlsplugin.InterfaceName, tlsplugin.NewDispatcher(pol.Server(func(hook string, d plugin.Decision) {
		// Printed so that a scenario can expect it.
		what := map[string]string{"BeforeConnect": "connect", "AfterHandshake": "handshake"}[hook]
		fmt.Fprintf(rt.Stdout(), "tls-pin: denied %s: %s\n", what, d.Reason)
	}))); err != nil {
		fmt.Fprintf(rt.Stderr(), "tls-pin: %v\n", err)
		return 2
	}
	if err := rt.Serve(ctx); err != nil && !errors.Is(err, context.Canceled) {
		return 1
	}
	return 0
}

// expandPinCerts turns --pin-cert NAME=FILE into --pin NAME=sha256//...
func expandPinCerts(args []string) ([]string, error) {
	var out []string
	for i := 0; i < len(args); i++ {
		a := args[i]
		v, ok := strings.CutPrefix(a, "--pin-cert=")
		if !ok && (a == "--pin-cert" || a == "-pin-cert") {
			if i+1 >= len(args) {
				return nil, errors.New("--pin-cert needs NAME=FILE")
			}
			i++
			v, ok = args[i], true
		}
		if !ok {
			out = append(out, a)
			continue
		}
		name, file, found := strings.Cut(v, "=")
		if !found {
			return nil, fmt.Errorf("--pin-cert %q: want NAME=FILE", v)
		}
		pin, err := pinOfFile(file)
		if err != nil {
			return nil, fmt.Errorf("--pin-cert %s: %w", name, err)
		}
		out = append(out, "--pin", name+"="+pin.String())
	}
	return out, nil
}

func pinOfFile(arg string) (plugin.Pin, error) {
	f, err := entities.File(arg)
	if err != nil {
		return plugin.Pin{}, err
	}
	defer f.Close()
	b, err := io.ReadAll(f)
	if err != nil {
		return plugin.Pin{}, err
	}
	blk, _ := pem.Decode(b)
	if blk == nil {
		return plugin.Pin{}, errors.New("no PEM certificate")
	}
	c, err := x509.ParseCertificate(blk.Bytes)
	if err != nil {
		return plugin.Pin{}, err
	}
	return plugin.SPKIPin(c), nil
}
