package httpdemo

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"net/http"
	"path"
	"strings"
	"syscall"
	"time"

	"capsim/entities"
	"capsim/entities/posix"
	"capsim/scenario"
)

// Programs returns the HTTP server and client.
func Programs() []*entities.Program {
	return []*entities.Program{
		{Name: "http-server", Class: "demo.HttpServer", Summary: "net/http FileServer over VFS_FILESYSTEM_BACKEND, listening through VFS_NETWORK_BACKEND",
			Usage: serverUsage, Run: runServer},
		{Name: "http-client", Class: "demo.HttpClient", Summary: "net/http GET through VFS_NETWORK_BACKEND, checking the body's SHA-256",
			Usage: clientUsage, Run: runClient},
	}
}

const serverUsage = `capsim:http-server [--listen ADDR] [--root DIR] [--blob PATH=SIZE]...
  prints one line per request: "METHOD PATH STATUS BYTES"
  --listen ADDR     address to listen on (default :80)
  --root DIR        folder of the file backend to serve (default /)
  --blob PATH=SIZE  also serve SIZE deterministic bytes at PATH (for transfers
                    without shipping a file: block i is SHA-256(PATH, i))`

const clientUsage = `capsim:http-client --url URL [--sha256 HEX] [--count N] [--timeout D] [--wait D]
  prints "GET URL: STATUS, N bytes, sha256 ok" per request (or "sha256 MISMATCH")
  --url URL       what to fetch (host names resolve inside the simulation)
  --sha256 HEX    the body's expected SHA-256; a mismatch exits 1
  --count N       requests to make (default 1)
  --timeout D     per request (default 20s)
  --wait D        retry a refused or unreachable connection this long, while the server starts (default 10s)`

func runServer(ctx context.Context, rt *entities.Runtime, args []string) int {
	fl := flag.NewFlagSet("http-server", flag.ContinueOnError)
	fl.SetOutput(rt.Stderr())
	listen := fl.String("listen", ":80", "address to listen on")
	root := fl.String("root", "/", "folder of the file backend to serve")
	var blobs blobFlags
	fl.Var(&blobs, "blob", "serve SIZE deterministic bytes at PATH: PATH=SIZE (repeatable)")
	if err := fl.Parse(args); err != nil {
		return 2
	}
	files := posix.NewFiles(rt)
	sub, err := fs.Sub(files.FS(), strings.Trim(*root, "/"))
	if *root == "/" || *root == "" {
		sub, err = files.FS(), nil
	}
	if err != nil {
		fmt.Fprintf(rt.Stderr(), "http-server: --root %s: %v\n", *root, err)
		return 2
	}
	ln, err := posix.NewNet(rt).ListenTCP(ctx, *listen)
	if err != nil {
		fmt.Fprintf(rt.Stdout(), "http-server: listen %s: %v\n", *listen, err)
		return 1
	}
	fmt.Fprintf(rt.Stdout(), "http-server: serving %s on %s\n", *root, ln.Addr())
	mux := http.NewServeMux()
	mux.Handle("/", serveIndex(sub, http.FileServerFS(sub)))
	for path, size := range blobs {
		data := Blob(path, size)
		mux.HandleFunc(path, func(w http.ResponseWriter, r *http.Request) {
			http.ServeContent(w, r, path, time.Time{}, bytes.NewReader(data))
		})
	}
	srv := &http.Server{Handler: logRequests(rt.Stdout(), mux), ReadHeaderTimeout: 10 * time.Second}
	go func() {
		<-ctx.Done()
		_ = srv.Close()
	}()
	if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
		fmt.Fprintf(rt.Stdout(), "http-server: %v\n", err)
		return 1
	}
	return 0
}

// serveIndex answers a request for a folder's index.html with the file
// itself: http.FileServer redirects it to the folder ("301 Location: ./"),
// which a client that asked for the file — curl without -L, the demo's own
// client — does not expect.
func serveIndex(fsys fs.FS, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if path.Base(r.URL.Path) != "index.html" {
			next.ServeHTTP(w, r)
			return
		}
		name := strings.TrimPrefix(path.Clean(r.URL.Path), "/")
		f, err := fsys.Open(name)
		switch {
		case errors.Is(err, fs.ErrNotExist):
			http.NotFound(w, r)
			return
		case errors.Is(err, fs.ErrPermission):
			http.Error(w, "403 Forbidden", http.StatusForbidden)
			return
		case err != nil:
			http.Error(w, "500 Internal Server Error", http.StatusInternalServerError)
			return
		}
		defer f.Close()
		st, err := f.Stat()
		rs, seekable := f.(io.ReadSeeker)
		if err != nil || st.IsDir() || !seekable {
			next.ServeHTTP(w, r)
			return
		}
		http.ServeContent(w, r, name, st.ModTime(), rs)
	})
}

// notUpYet reports an error that a server still starting gives: nothing
// listens yet, or its host does not answer ARP yet.
func notUpYet(err error) bool {
	return errors.Is(err, syscall.ECONNREFUSED) || errors.Is(err, syscall.EHOSTUNREACH) || errors.Is(err, syscall.ENETUNREACH)
}

// blobFlags are --blob PATH=SIZE flags.
type blobFlags map[string]int

func (b *blobFlags) String() string { return fmt.Sprint(len(*b), " blobs") }

func (b *blobFlags) Set(v string) error {
	path, size, ok := strings.Cut(v, "=")
	if !ok || !strings.HasPrefix(path, "/") {
		return fmt.Errorf("--blob %q: want /PATH=SIZE", v)
	}
	n, err := scenario.ParseSize(size)
	if err != nil || n <= 0 || n > 1<<30 {
		return fmt.Errorf("--blob %q: bad size (up to 1GiB)", v)
	}
	if *b == nil {
		*b = make(blobFlags)
	}
	(*b)[path] = int(n)
	return nil
}

// Blob returns the deterministic bytes --blob serves at path: block i is
// SHA-256 of path and i, so any SIZE has a known digest without a file.
func Blob(path string, size int) []byte {
	out := make([]byte, 0, size+sha256.Size)
	var i uint64
	for len(out) < size {
		sum := sha256.Sum256(binary.LittleEndian.AppendUint64([]byte(path), i))
		out = append(out, sum[:]...)
		i++
	}
	return out[:size]
}

// logRequests prints one line per request.
func logRequests(w io.Writer, h http.Handler) http.Handler {
	return http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
		cw := &countingWriter{ResponseWriter: rw, status: http.StatusOK}
		h.ServeHTTP(cw, r)
		fmt.Fprintf(w, "%s %s %d %d\n", r.Method, r.URL.Path, cw.status, cw.n)
	})
}

type countingWriter struct {
	http.ResponseWriter
	status int
	n      int
}

func (c *countingWriter) WriteHeader(code int) { c.status = code; c.ResponseWriter.WriteHeader(code) }
func (c *countingWriter) Write(b []byte) (int, error) {
	n, err := c.ResponseWriter.Write(b)
	c.n += n
	return n, err
}

func runClient(ctx context.Context, rt *entities.Runtime, args []string) int {
	fl := flag.NewFlagSet("http-client", flag.ContinueOnError)
	fl.SetOutput(rt.Stderr())
	url := fl.String("url", "", "what to fetch")
	want := fl.String("sha256", "", "the body's expected SHA-256")
	count := fl.Int("count", 1, "requests to make")
	timeout := fl.Duration("timeout", 20*time.Second, "per request")
	wait := fl.Duration("wait", 10*time.Second, "retry a refused connection this long")
	if err := fl.Parse(args); err != nil {
		return 2
	}
	if *url == "" {
		fmt.Fprintln(rt.Stderr(), "http-client: --url is required")
		return 2
	}
	n := posix.NewNet(rt)
	client := &http.Client{Timeout: *timeout, Transport: &http.Transport{DialContext: n.DialContext, DisableKeepAlives: false}}
	out := rt.Stdout()
	for i := 0; i < *count; i++ {
		err := fetch(ctx, client, *url, strings.ToLower(*want), out)
		for deadline := time.Now().Add(*wait); i == 0 && notUpYet(err) && time.Now().Before(deadline); {
			time.Sleep(100 * time.Millisecond) // the server or its host may not be up yet
			err = fetch(ctx, client, *url, strings.ToLower(*want), out)
		}
		if err != nil {
			fmt.Fprintf(out, "GET %s: %v\n", *url, err)
			return 1
		}
	}
	return 0
}

func fetch(ctx context.Context, c *http.Client, url, want string, out io.Writer) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return err
	}
	resp, err := c.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	h := sha256.New()
	n, err := io.Copy(h, resp.Body)
	if err != nil {
		return fmt.Errorf("%s after %d bytes: %w", resp.Status, n, err)
	}
	sum := hex.EncodeToString(h.Sum(nil))
	verdict := "sha256 " + sum
	switch {
	case want == "":
	case want == sum:
		verdict = "sha256 ok"
	default:
		fmt.Fprintf(out, "GET %s: %s, %d bytes, sha256 MISMATCH: got %s, want %s\n", url, resp.Status, n, sum, want)
		return errors.New("sha256 mismatch")
	}
	fmt.Fprintf(out, "GET %s: %s, %d bytes, %s\n", url, resp.Status, n, verdict)
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("status %s", resp.Status)
	}
	return nil
}
