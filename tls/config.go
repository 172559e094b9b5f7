package tls

import (
	"bytes"
	"crypto/rand"
	gotls "crypto/tls"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strconv"
	"strings"
	"sync"
	"time"

	"golang.org/x/sys/unix"
)

// DefaultHandshakeTimeout bounds a handshake when --handshake-timeout is
// not given.
const DefaultHandshakeTimeout = 10 * time.Second

// Config is the terminator's configuration, from the entity's args.
type Config struct {
	// Roots are the trusted CAs (--ca). Never nil: an empty pool trusts
	// nothing (the system roots are never used).
	Roots *x509.CertPool
	// CACerts are the certificates in Roots, in load order.
	CACerts []*x509.Certificate
	// Certificate is the own certificate and key (--cert, --key): the
	// server's certificate, or the client certificate on Connect. Nil if
	// not configured. Its OCSPStaple is set from --ocsp.
	Certificate *gotls.Certificate
	// CRLs are the revocation lists (--crl, repeatable).
	CRLs []*x509.RevocationList
	// OCSPStaple is the DER OCSP response a server staples (--ocsp).
	OCSPStaple []byte
	// HandshakeTimeout bounds every handshake (--handshake-timeout).
	HandshakeTimeout time.Duration
	// VerifyClient makes accepted sessions require a client certificate
	// that verifies against Roots (--verify-client).
	VerifyClient bool
	// LogLevel is the level of the entity's log (--log-level).
	LogLevel slog.Level
	// Plugins are the channel ids of the configured plug-ins (--plugin,
	// repeatable), in the order their hooks are called.
	Plugins []string
	// Logger receives handshake and verification logs; nil discards them.
	Logger *slog.Logger
	// Now returns the time used for verification; nil means time.Now.
	Now func() time.Time

	// ticketOnce makes ticketKey, the key of the session tickets this
	// terminator issues as a server: one for all its handshakes, so that
	// a client can resume a session on a later connection.
	ticketOnce sync.Once
	ticketKey  [32]byte
}

// sessionTicketKey returns the key of the server's session tickets, made
// at the first server handshake and kept for the terminator's life.
func (c *Config) sessionTicketKey() [32]byte {
	c.ticketOnce.Do(func() {
		if _, err := rand.Read(c.ticketKey[:]); err != nil {
			panic(err) // crypto/rand never fails on Linux
		}
	})
	return c.ticketKey
}

func (c *Config) logger() *slog.Logger {
	if c.Logger == nil {
		return slog.New(slog.DiscardHandler)
	}
	return c.Logger
}

func (c *Config) now() time.Time {
	if c.Now == nil {
		return time.Now()
	}
	return c.Now()
}

// listFlag collects a repeatable string flag.
type listFlag []string

func (l *listFlag) String() string     { return strings.Join(*l, ",") }
func (l *listFlag) Set(v string) error { *l = append(*l, v); return nil }

// Usage is the synopsis of the capsim:tls program's flags.
const Usage = `capsim:tls [--ca FILE|DIR]... [--cert FILE --key FILE] [--crl FILE]... [--ocsp FILE]
           [--verify-client] [--handshake-timeout D] [--log-level debug|info|warn|error] [--plugin ID]...
FILE is a path or fd:N (a descriptor the kernel opened, as $CERTS/NAME becomes).`

// ParseFlags reads the capsim:tls flags (SCENARIO.md, built-in programs)
// and loads every file they name.
func ParseFlags(args []string) (*Config, error) {
	fs := flag.NewFlagSet("capsim:tls", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	var cas, crls, plugins listFlag
	fs.Var(&cas, "ca", "trusted CA certificates: a PEM file or a folder of them (repeatable)")
	fs.Var(&crls, "crl", "a CRL, PEM or DER (repeatable)")
	fs.Var(&plugins, "plugin", "channel id of a plug-in (repeatable)")
	certArg := fs.String("cert", "", "own certificate chain (PEM)")
	keyArg := fs.String("key", "", "own private key (PEM)")
	ocspArg := fs.String("ocsp", "", "OCSP response (DER) to staple as a server")
	timeout := fs.Duration("handshake-timeout", DefaultHandshakeTimeout, "handshake timeout")
	verifyClient := fs.Bool("verify-client", false, "as a server, require a client certificate that verifies against --ca")
	level := fs.String("log-level", "info", "log level: debug, info, warn, error")
	if err := fs.Parse(args); err != nil {
		return nil, fmt.Errorf("capsim:tls: %w\nusage: %s", err, Usage)
	}
	if fs.NArg() > 0 {
		return nil, fmt.Errorf("capsim:tls: unexpected argument %q\nusage: %s", fs.Arg(0), Usage)
	}
	if *timeout <= 0 {
		return nil, fmt.Errorf("capsim:tls: --handshake-timeout %v: must be positive", *timeout)
	}
	if *verifyClient && len(cas) == 0 {
		return nil, fmt.Errorf("capsim:tls: --verify-client needs --ca, the CAs client certificates must chain to")
	}
	cfg := &Config{Roots: x509.NewCertPool(), HandshakeTimeout: *timeout, Plugins: plugins, VerifyClient: *verifyClient}
	if err := cfg.LogLevel.UnmarshalText([]byte(*level)); err != nil {
		return nil, fmt.Errorf("capsim:tls: --log-level: %w", err)
	}
	if err := cfg.load(cas, crls, *certArg, *keyArg, *ocspArg); err != nil {
		return nil, fmt.Errorf("capsim:tls: %w", err)
	}
	return cfg, nil
}

func (c *Config) load(cas, crls []string, certArg, keyArg, ocspArg string) error {
	for _, a := range cas {
		if err := c.AddCAs(a); err != nil {
			return err
		}
	}
	for _, a := range crls {
		if err := c.AddCRL(a); err != nil {
			return err
		}
	}
	if (certArg == "") != (keyArg == "") {
		return errors.New("--cert and --key go together")
	}
	if certArg != "" {
		if err := c.LoadKeyPair(certArg, keyArg); err != nil {
			return err
		}
	}
	if ocspArg != "" {
		if err := c.LoadOCSP(ocspArg); err != nil {
			return err
		}
	}
	return nil
}

// AddCAs adds the certificates of a PEM file, or of every file in a
// folder, to the trusted roots.
func (c *Config) AddCAs(arg string) error {
	files, err := ReadFileArg(arg, true)
	if err != nil {
		return fmt.Errorf("--ca: %w", err)
	}
	n := 0
	for _, data := range files {
		certs, err := parsePEMCerts(data)
		if err != nil {
			return fmt.Errorf("--ca %s: %w", arg, err)
		}
		for _, cert := range certs {
			c.Roots.AddCert(cert)
			c.CACerts = append(c.CACerts, cert)
			n++
		}
	}
	if n == 0 {
		return fmt.Errorf("--ca %s: no PEM certificate found", arg)
	}
	return nil
}

func parsePEMCerts(data []byte) ([]*x509.Certificate, error) {
	var certs []*x509.Certificate
	for {
		var b *pem.Block
		b, data = pem.Decode(data)
		if b == nil {
			return certs, nil
		}
		if b.Type != "CERTIFICATE" {
			continue
		}
		cert, err := x509.ParseCertificate(b.Bytes)
		if err != nil {
			return nil, err
		}
		certs = append(certs, cert)
	}
}

// AddCRL adds a CRL, PEM ("X509 CRL") or DER.
func (c *Config) AddCRL(arg string) error {
	data, err := ReadFileArg(arg, false)
	if err != nil {
		return fmt.Errorf("--crl: %w", err)
	}
	der := derOf(data[0], "X509 CRL")
	crl, err := x509.ParseRevocationList(der)
	if err != nil {
		return fmt.Errorf("--crl %s: %w", arg, err)
	}
	c.CRLs = append(c.CRLs, crl)
	return nil
}

// derOf returns the first PEM block of type typ if data is PEM, else data.
func derOf(data []byte, typ string) []byte {
	if !bytes.Contains(data, []byte("-----BEGIN")) {
		return data
	}
	for rest := data; ; {
		var b *pem.Block
		if b, rest = pem.Decode(rest); b == nil {
			return data
		}
		if b.Type == typ {
			return b.Bytes
		}
	}
}

// LoadKeyPair sets the own certificate chain and key (both PEM).
func (c *Config) LoadKeyPair(certArg, keyArg string) error {
	certPEM, err := ReadFileArg(certArg, false)
	if err != nil {
		return fmt.Errorf("--cert: %w", err)
	}
	keyPEM, err := ReadFileArg(keyArg, false)
	if err != nil {
		return fmt.Errorf("--key: %w", err)
	}
	pair, err := gotls.X509KeyPair(certPEM[0], keyPEM[0])
	if err != nil {
		return fmt.Errorf("--cert %s --key %s: %w", certArg, keyArg, err)
	}
	pair.OCSPStaple = c.OCSPStaple
	c.Certificate = &pair
	return nil
}

// LoadOCSP sets the OCSP response to staple (DER, or PEM "OCSP RESPONSE").
func (c *Config) LoadOCSP(arg string) error {
	data, err := ReadFileArg(arg, false)
	if err != nil {
		return fmt.Errorf("--ocsp: %w", err)
	}
	c.OCSPStaple = derOf(data[0], "OCSP RESPONSE")
	if c.Certificate != nil {
		c.Certificate.OCSPStaple = c.OCSPStaple
	}
	return nil
}

// ReadFileArg reads the file named by arg: "fd:N" is an inherited
// descriptor (read from its current offset, then closed), anything else a
// path. With dirOK, a folder yields the contents of each regular file in
// it (opened relative to the folder's descriptor, symlinks not followed);
// otherwise a folder is an error. The result has one entry per file.
func ReadFileArg(arg string, dirOK bool) ([][]byte, error) {
	f, err := openArg(arg)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return nil, fmt.Errorf("%s: %w", arg, err)
	}
	if !fi.IsDir() {
		data, err := io.ReadAll(f)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", arg, err)
		}
		return [][]byte{data}, nil
	}
	if !dirOK {
		return nil, fmt.Errorf("%s: is a folder", arg)
	}
	return readDir(arg, f)
}

func openArg(arg string) (*os.File, error) {
	s, ok := strings.CutPrefix(arg, "fd:")
	if !ok {
		f, err := os.Open(arg)
		if err != nil {
			return nil, err
		}
		return f, nil
	}
	n, err := strconv.Atoi(s)
	if err != nil || n < 0 {
		return nil, fmt.Errorf("%s: bad descriptor (want fd:N)", arg)
	}
	if _, err := unix.FcntlInt(uintptr(n), unix.F_GETFD, 0); err != nil {
		return nil, fmt.Errorf("%s: %w", arg, err)
	}
	return os.NewFile(uintptr(n), arg), nil
}

func readDir(arg string, dir *os.File) ([][]byte, error) {
	entries, err := dir.ReadDir(-1)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", arg, err)
	}
	var out [][]byte
	for _, e := range entries {
		if !e.Type().IsRegular() {
			continue
		}
		fd, err := unix.Openat(int(dir.Fd()), e.Name(), unix.O_RDONLY|unix.O_CLOEXEC|unix.O_NOFOLLOW, 0)
		if err != nil {
			return nil, fmt.Errorf("%s/%s: %w", arg, e.Name(), err)
		}
		f := os.NewFile(uintptr(fd), e.Name())
		data, err := io.ReadAll(f)
		f.Close()
		if err != nil {
			return nil, fmt.Errorf("%s/%s: %w", arg, e.Name(), err)
		}
		out = append(out, data)
	}
	return out, nil
}
