package entity

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"strings"

	"capsim/api/capsim/file"
	"capsim/api/capsim/socket"
	"capsim/entities"
	"capsim/entities/posix"
	"capsim/ipc"
	"capsim/vfs"
)

// Program is capsim:vfs.
func Program() *entities.Program {
	return &entities.Program{Name: "vfs", Class: "kl.VfsRamFs", AlsoFor: []string{"kl.VfsNet"}, Summary: "a VFS entity: files from its mounts, sockets forwarded to NETSTACK_BACKEND",
		Usage: usage, Run: run}
}

// NetstackBackend names the channel a network backend forwards to.
const NetstackBackend = "NETSTACK_BACKEND"

const usage = `capsim:vfs [--mount PATH=FS[,size=S][,mode=ro|rw][,source=fd:N]]...
  serves capsim.File when its class has an endpoint of it, over the mounts
  (ramfs, romfs, hostdir; the kernel opens each source and passes fd:N), and
  capsim.Socket when its class has one, forwarding to NETSTACK_BACKEND
  (client:<channel>). The scenario's mounts = [...] become --mount flags.`

type mountFlags []vfs.MountSpec

func (m *mountFlags) String() string { return fmt.Sprint(len(*m), " mounts") }

// Set parses PATH=FS[,size=S][,mode=M][,source=fd:N].
func (m *mountFlags) Set(v string) error {
	path, rest, ok := strings.Cut(v, "=")
	if !ok || path == "" {
		return fmt.Errorf("--mount %q: want PATH=FS[,size=S][,mode=M][,source=fd:N]", v)
	}
	parts := strings.Split(rest, ",")
	spec := vfs.MountSpec{Path: path, FS: parts[0]}
	for _, p := range parts[1:] {
		k, val, _ := strings.Cut(p, "=")
		switch k {
		case "size":
			spec.Size = val
		case "mode":
			spec.Mode = val
		case "source":
			f, err := entities.File(val)
			if err != nil {
				return fmt.Errorf("--mount %s: %w", path, err)
			}
			spec.Source = f
		default:
			return fmt.Errorf("--mount %s: unknown option %q", path, k)
		}
	}
	*m = append(*m, spec)
	return nil
}

func run(ctx context.Context, rt *entities.Runtime, args []string) int {
	fl := flag.NewFlagSet("vfs", flag.ContinueOnError)
	fl.SetOutput(rt.Stderr())
	var mounts mountFlags
	fl.Var(&mounts, "mount", "a mount: PATH=FS[,size=S][,mode=ro|rw][,source=fd:N] (repeatable)")
	if err := fl.Parse(args); err != nil {
		return 2
	}
	served := 0
	if rt.Serves(file.InterfaceName) {
		if len(mounts) == 0 {
			mounts = mountFlags{{Path: "/", FS: "ramfs", Size: "64MiB"}}
		}
		m, err := vfs.OpenMounts(mounts)
		if err != nil {
			fmt.Fprintf(rt.Stderr(), "vfs: mounts: %v\n", err)
			return 1
		}
		defer m.Close()
		files := vfs.NewFiles(m, vfs.FilesOptions{Logger: rt.Log})
		rt.OnGone(func(b *ipc.Badge) { _ = files.Drop(b.ID) }) // an ended client's files close
		_ = rt.Handle(file.InterfaceName, file.NewDispatcher(vfs.NewFileServer(files)))
		served++
	}
	if rt.Serves(socket.InterfaceName) {
		fwd := newForwarder(posix.NetFromEnv(rt, NetstackBackend), func(err error) {
			fmt.Fprintf(rt.Stderr(), "vfs: network backend unavailable: %v\n", err)
		})
		rt.OnGone(func(b *ipc.Badge) { fwd.drop(b.ID) }) // and its sockets downstream
		// A client's blocked calls take at most fairShare of the VFS's
		// calls to the netstack, so that one client never stalls the rest.
		_ = rt.Handle(socket.InterfaceName, ipc.FairShare(socket.NewDispatcher(fwd), fairShare))
		served++
	}
	if served == 0 {
		fmt.Fprintf(rt.Stderr(), "vfs: class %s serves neither %s nor %s\n", rt.Class, file.InterfaceName, socket.InterfaceName)
		return 2
	}
	if err := rt.Serve(ctx); err != nil && !errors.Is(err, context.Canceled) {
		return 1
	}
	return 0
}

// fairShare is how many requests of one client the network backend serves
// at once: three quarters of the default in-flight limit (64) of the VFS's
// own calls to the netstack, which a client's blocked receives would
// otherwise fill.
const fairShare = 48
