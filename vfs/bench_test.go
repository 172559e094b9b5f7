package vfs

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"
)

// BenchmarkReadFile reads a 16 MiB file whole: with os.ReadFile, and
// through Files (Open, Read of MaxData until the end, Close) from a ramfs
// and from a hostdir over the same bytes.
func BenchmarkReadFile(b *testing.B) {
	const size = 16 << 20
	data := bytes.Repeat([]byte("0123456789abcdef"), size/16)
	dir := b.TempDir()
	hostPath := filepath.Join(dir, "big")
	must(b, os.WriteFile(hostPath, data, 0o644))

	b.Run("os.ReadFile", func(b *testing.B) {
		b.SetBytes(size)
		for b.Loop() {
			got, err := os.ReadFile(hostPath)
			if err != nil || len(got) != size {
				b.Fatal(len(got), err)
			}
		}
	})
	ram := NewRamFS(RamFSOptions{Size: 2 * size})
	h, err := ram.Open("big", O_WRONLY|O_CREAT, 0o644)
	must(b, err)
	_, err = h.Write(data)
	must(b, err)
	must(b, h.Close())
	kinds := map[string]FileSystem{"ramfs": ram, "hostdir": openHostDir(b, dir, "ro")}
	for _, name := range []string{"ramfs", "hostdir"} {
		m, err := NewMounts(Mount{Path: "/", FS: kinds[name]})
		must(b, err)
		f := NewFiles(m, FilesOptions{})
		b.Run(name, func(b *testing.B) {
			b.SetBytes(size)
			for b.Loop() {
				if n := readWhole(b, f, "/big"); n != size {
					b.Fatalf("read %d bytes", n)
				}
			}
		})
	}
}

// readWhole reads path through f as a client would (as os.ReadFile does:
// size the buffer from FStat, then read MaxData at a time).
func readWhole(b *testing.B, f *Files, path string) int {
	fd, err := f.Open(bg, client, path, O_RDONLY, 0)
	must(b, err)
	st, err := f.FStat(bg, client, fd)
	must(b, err)
	out := make([]byte, 0, st.Size)
	for {
		chunk, err := f.Read(bg, client, fd, MaxData)
		must(b, err)
		if len(chunk) == 0 {
			break
		}
		out = append(out, chunk...)
	}
	must(b, f.Close(bg, client, fd))
	return len(out)
}
