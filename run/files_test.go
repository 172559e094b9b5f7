package run_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"syscall"
	"testing"

	"capsim/entities"
	"capsim/entities/posix"
	"capsim/run"
)

// runFiles uses the os.File-like client API against a VFS entity's ramfs
// and checks what a Go programmer expects of *os.File.
func runFiles(ctx context.Context, rt *entities.Runtime, args []string) int {
	fsys := posix.NewFiles(rt)
	fail := func(format string, a ...any) int { fmt.Printf("FAIL "+format+"\n", a...); return 1 }
	if err := fsys.Mkdir(ctx, "/data", 0o755); err != nil {
		return fail("mkdir: %v", err)
	}
	f, err := fsys.Create(ctx, "/data/log.txt")
	if err != nil {
		return fail("create: %v", err)
	}
	if _, err := io.WriteString(f, "hello, world"); err != nil {
		return fail("write: %v", err)
	}
	if _, err := f.Seek(7, io.SeekStart); err != nil {
		return fail("seek: %v", err)
	}
	b := make([]byte, 5)
	if _, err := io.ReadFull(f, b); err != nil || string(b) != "world" {
		return fail("read after seek: %q, %v", b, err)
	}
	if _, err := f.Read(b); err != io.EOF {
		return fail("read at the end: %v, want io.EOF", err)
	}
	if end, err := f.Seek(0, io.SeekEnd); err != nil || end != 12 {
		return fail("seek to end: %d, %v", end, err)
	}
	f.Close()
	if err := f.Close(); !errors.Is(err, os.ErrClosed) {
		return fail("second close: %v", err)
	}
	a, err := fsys.OpenFile(ctx, "/data/log.txt", os.O_WRONLY|os.O_APPEND, 0)
	if err != nil {
		return fail("open append: %v", err)
	}
	io.WriteString(a, "!")
	a.Close()
	if st, err := fsys.Stat(ctx, "/data/log.txt"); err != nil || st.Size() != 13 || st.IsDir() {
		return fail("stat: %v, %v", st, err)
	}
	if _, err := fsys.OpenFile(ctx, "/data/log.txt", os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644); !errors.Is(err, fs.ErrExist) {
		return fail("O_EXCL on an existing file: %v, want EEXIST", err)
	}
	if _, err := fsys.Open(ctx, "/data/missing"); !errors.Is(err, fs.ErrNotExist) || !errors.Is(err, syscall.ENOENT) {
		return fail("open missing: %v, want ENOENT", err)
	}
	if err := fsys.Rename(ctx, "/data/log.txt", "/data/old.txt"); err != nil {
		return fail("rename: %v", err)
	}
	if data, err := fsys.ReadFile(ctx, "/data/old.txt"); err != nil || string(data) != "hello, world!" {
		return fail("read file: %q, %v", data, err)
	}
	if err := fsys.Remove(ctx, "/data"); !errors.Is(err, syscall.ENOTEMPTY) {
		return fail("remove a full folder: %v, want ENOTEMPTY", err)
	}
	if err := fsys.Remove(ctx, "/data/old.txt"); err != nil {
		return fail("remove file: %v", err)
	}
	if err := fsys.Remove(ctx, "/data"); err != nil {
		return fail("remove folder: %v", err)
	}
	fmt.Println("ok os.File semantics")
	return 0
}

const filesScenario = `
[[entity]]
task = "files"
class = "kl.VfsRamFs"
mounts = [ { path = "/", fs = "ramfs", size = "1MiB" } ]
main = false
[[entity]]
task = "user"
class = "demo.HttpServer"
program = "capsim:test-files"
env = { VFS_FILESYSTEM_BACKEND = "client:files" }
connections = [ { target = "files", id = "files" } ]
[[expect]]
task = "user"
output = "ok os.File semantics"
`

func TestFileAPI(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(dir+"/scenario.toml", []byte(filesScenario), 0o644); err != nil {
		t.Fatal(err)
	}
	rep, out := runScenario(t, dir, run.Options{})
	if !rep.OK() {
		t.Fatalf("failures: %q\n%s", rep.Failures, out)
	}
}
