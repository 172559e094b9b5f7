package entity

import (
	"context"
	"errors"
	"fmt"
	"log/slog"

	"capsim/api/capsim/socket"
	"capsim/entities"
	"capsim/entities/posix"
	"capsim/ipc"
	"capsim/tls"
)

// Program is capsim:tls.
func Program() *entities.Program {
	return &entities.Program{Name: "tls", Class: "kl.TlsEntity",
		Summary: "the TLS terminator: socket calls in, TLS on the wire through VFS_NETWORK_BACKEND",
		Usage:   tls.Usage, Run: run}
}

func run(ctx context.Context, rt *entities.Runtime, args []string) int {
	cfg, err := tls.ParseFlags(args)
	if err != nil {
		fmt.Fprintf(rt.Stderr(), "tls: %v\n", err)
		return 2
	}
	cfg.Logger = slog.New(slog.NewTextHandler(rt.Stderr(), &slog.HandlerOptions{Level: cfg.LogLevel}))
	down, err := posix.NewNet(rt).Client(ctx)
	if err != nil {
		fmt.Fprintf(rt.Stderr(), "tls: %v\n", err)
		return 1
	}
	hooks, err := pluginHooks(ctx, rt, cfg.Plugins, cfg.Logger)
	if err != nil {
		fmt.Fprintf(rt.Stderr(), "tls: %v\n", err)
		return 1
	}
	term := tls.NewTerminator(cfg, down, hooks)
	rt.OnGone(func(b *ipc.Badge) { term.Forget(context.Background(), b.ID) }) // sessions of an ended client end too
	// A client's blocked calls take at most fairShare of the entity's calls
	// downstream, so that one client never stalls the rest.
	if err := rt.Handle(socket.InterfaceName, ipc.FairShare(socket.NewDispatcher(term), fairShare)); err != nil {
		fmt.Fprintf(rt.Stderr(), "tls: %v\n", err)
		return 2
	}
	if err := rt.Serve(ctx); err != nil && !errors.Is(err, context.Canceled) {
		return 1
	}
	return 0
}

// fairShare is how many requests of one client the terminator serves at
// once: three quarters of the default in-flight limit (64) of its own
// calls downstream, which a client's blocked receives would otherwise
// fill.
const fairShare = 48
