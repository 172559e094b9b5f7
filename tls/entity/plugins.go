package entity

import (
	"context"
	"fmt"

	"capsim/entities"
	"capsim/tls"
)

// pluginHooks connects to the configured plug-in entities; nil without any.
func pluginHooks(ctx context.Context, rt *entities.Runtime, ids []string) (tls.Hooks, error) {
	if len(ids) == 0 {
		return nil, nil
	}
	return nil, fmt.Errorf("--plugin %v: plug-in entities are not wired yet", ids)
}
