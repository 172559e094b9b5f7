package confine_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"syscall"
	"testing"

	"golang.org/x/sys/unix"

	"capsim/entities"
	"capsim/entities/adversary"
	"capsim/entities/echo"
	"capsim/kernel/confine"
)

// The test binary is the trampoline and every entity program of these
// tests.
func TestMain(m *testing.M) {
	confine.MainIfTrampoline()
	registry().MainIfEntity()
	os.Exit(m.Run())
}

func registry() *entities.Registry {
	r := entities.NewRegistry(adversary.Program(), sleeper(), exiter(), hog(), granted())
	for _, p := range echo.Programs() {
		r.Register(p)
	}
	return r
}

// sleeper serves nothing until the kernel stops it: a sibling to attack.
func sleeper() *entities.Program {
	return &entities.Program{Name: "test-sleeper", Class: "demo.EchoServer",
		Run: func(ctx context.Context, rt *entities.Runtime, args []string) int {
			fmt.Println("sleeping")
			_ = rt.Serve(ctx)
			return 0
		}}
}

// exiter exits at once: the entity start benchmark.
func exiter() *entities.Program {
	return &entities.Program{Name: "test-exit", Class: "demo.EchoClient",
		Run: func(context.Context, *entities.Runtime, []string) int { return 0 }}
}

// hog allocates and touches memory until it is stopped.
func hog() *entities.Program {
	return &entities.Program{Name: "test-hog", Class: "demo.EchoClient",
		Run: func(context.Context, *entities.Runtime, []string) int {
			var keep [][]byte
			for i := 0; i < 1024; i++ {
				b := make([]byte, 1<<20)
				for j := range b {
					b[j] = byte(j)
				}
				keep = append(keep, b)
			}
			fmt.Printf("allocated %d MiB\n", len(keep))
			return 0
		}}
}

// granted tries what its granted descriptors allow: 4 is a file opened
// read-only, 5 a folder granted read-only, 6 a folder granted writable.
// It prints one line per attempt: "NAME ok" or "NAME ERRNO".
func granted() *entities.Program {
	return &entities.Program{Name: "test-granted", Class: "demo.EchoClient",
		Run: func(context.Context, *entities.Runtime, []string) int {
			try := func(name string, err error) {
				if err != nil {
					var en syscall.Errno
					if errors.As(err, &en) {
						fmt.Printf("%s %s\n", name, unix.ErrnoName(en))
						return
					}
					fmt.Printf("%s %v\n", name, err)
					return
				}
				fmt.Printf("%s ok\n", name)
			}
			create := func(dirfd int) error {
				fd, err := unix.Openat(dirfd, fmt.Sprintf("made-%d", os.Getpid()), unix.O_CREAT|unix.O_WRONLY, 0o644)
				if err == nil {
					unix.Close(fd)
				}
				return err
			}
			reopen := func(fd, flags int) error {
				nfd, err := unix.Open(fmt.Sprintf("/proc/self/fd/%d", fd), flags, 0)
				if err == nil {
					unix.Close(nfd)
				}
				return err
			}
			try("read-file", reopen(4, unix.O_RDONLY))
			try("write-file", reopen(4, unix.O_RDWR))
			try("read-in-ro-dir", func() error {
				fd, err := unix.Openat(5, "inside.txt", unix.O_RDONLY, 0)
				if err == nil {
					unix.Close(fd)
				}
				return err
			}())
			try("create-in-ro-dir", create(5))
			try("remove-in-ro-dir", unix.Unlinkat(5, "inside.txt", 0))
			try("create-in-rw-dir", create(6))
			return 0
		}}
}
