package entity

import (
	"context"
	"fmt"
	"log/slog"

	"capsim/api/capsim/tlsplugin"
	"capsim/entities"
	"capsim/tls"
)

// pluginHooks connects to the configured plug-in entities (--plugin ID,
// channel ids, called in order); nil without any.
func pluginHooks(ctx context.Context, rt *entities.Runtime, ids []string, log *slog.Logger) (tls.Hooks, error) {
	if len(ids) == 0 {
		return nil, nil
	}
	var plugins []tls.Plugin
	for _, id := range ids {
		h, riid, err := rt.Lookup(ctx, id, tlsplugin.InterfaceName)
		if err != nil {
			return nil, fmt.Errorf("--plugin %s: %w", id, err)
		}
		plugins = append(plugins, tls.Plugin{Name: id, Client: &tlsplugin.Client{Caller: rt, Handle: h, Endpoint: riid}})
	}
	return tls.NewPluginHooks(plugins, log), nil
}
