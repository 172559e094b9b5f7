package vfs

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"testing/fstest"
)

func TestFSOverRamFS(t *testing.T) {
	ram := NewRamFS(RamFSOptions{})
	writeFile(t, ram, "hello.txt", "hello, world\n", 0o644)
	must(t, ram.Mkdir("sub", 0o755))
	must(t, ram.Mkdir("sub/deeper", 0o700))
	writeFile(t, ram, "sub/deeper/big", strings.Repeat("0123456789", 30000), 0o600)
	for i := range 300 {
		writeFile(t, ram, fmt.Sprintf("sub/f%03d", i), fmt.Sprint(i), 0o644)
	}
	f := newFiles(t, ram)
	fsys := NewFS(f.Client(client))
	want := []string{"hello.txt", "sub/deeper/big", "sub/f000", "sub/f299"}
	if err := fstest.TestFS(fsys, want...); err != nil {
		t.Fatal(err)
	}
	if n := f.NumOpen(client); n != 0 {
		t.Errorf("%d descriptors left open", n)
	}
}

func TestFSOverMounts(t *testing.T) {
	f, _ := mountFixture(t)
	if err := fstest.TestFS(NewFS(f.Client(client)), "www/index.html", "etc/passwd"); err != nil {
		t.Fatal(err)
	}
}

func TestFSErrors(t *testing.T) {
	fs1, _ := newRamFixture(t)
	fsys := NewFS(newFiles(t, fs1).Client(client))
	if _, err := fsys.Open("missing"); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("open missing: %v", err)
	}
	if _, err := fsys.Open("../x"); !errors.Is(err, fs.ErrInvalid) {
		t.Errorf("open ../x: %v", err)
	}
	file, err := fsys.Open("file.txt")
	must(t, err)
	must(t, file.Close())
	if err := file.Close(); !errors.Is(err, fs.ErrClosed) {
		t.Errorf("close twice: %v", err)
	}
	if _, err := file.Read(make([]byte, 1)); !errors.Is(err, fs.ErrClosed) {
		t.Errorf("read after close: %v", err)
	}
	file, err = fsys.Open("file.txt")
	must(t, err)
	defer file.Close()
	s := file.(io.ReadSeeker)
	if pos, err := s.Seek(-2, io.SeekEnd); pos != 3 || err != nil {
		t.Errorf("seek from end: %d, %v", pos, err)
	}
	b, err := io.ReadAll(s)
	if string(b) != "lo" || err != nil {
		t.Errorf("read after seek: %q, %v", b, err)
	}
	if _, err := s.Seek(-10, io.SeekCurrent); err == nil {
		t.Error("seek before start: no error")
	}
}

// TestFSHTTP serves the view with net/http.FileServer, as the HTTP file
// server entity will.
func TestFSHTTP(t *testing.T) {
	fs1, _ := newRamFixture(t)
	srv := httptest.NewServer(http.FileServerFS(NewFS(newFiles(t, fs1).Client(client))))
	defer srv.Close()
	resp, err := http.Get(srv.URL + "/dir/inner.txt")
	must(t, err)
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != 200 || string(b) != "inner" {
		t.Errorf("GET /dir/inner.txt: %s %q", resp.Status, b)
	}
	req, _ := http.NewRequest("GET", srv.URL+"/file.txt", nil)
	req.Header.Set("Range", "bytes=1-3")
	resp2, err := http.DefaultClient.Do(req)
	must(t, err)
	defer resp2.Body.Close()
	b, _ = io.ReadAll(resp2.Body)
	if resp2.StatusCode != http.StatusPartialContent || string(b) != "ell" {
		t.Errorf("range GET: %s %q", resp2.Status, b)
	}
}
