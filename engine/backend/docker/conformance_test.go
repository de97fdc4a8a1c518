package docker

import (
	"context"
	"testing"
	"time"

	"github.com/lambhq/lamb/engine/backend"
	"github.com/lambhq/lamb/engine/backend/backendtest"
)

func TestConformance(t *testing.T) {
	setup(t)
	// Containers reach the host at their network's gateway: the suite's
	// stream cases serve the function's signal there.
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	gw, err := newTestBackend(t).Gateway(ctx)
	if err != nil {
		t.Fatal(err)
	}
	backendtest.Run(t, func(t *testing.T) backend.Backend { return newTestBackend(t) },
		backendtest.Options{Python: true, Node: true, HostAddr: gw.String()})
}
