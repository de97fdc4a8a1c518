package kubernetes

import (
	"testing"

	"github.com/lambhq/lamb/engine/backend"
	"github.com/lambhq/lamb/engine/backend/backendtest"
)

func TestConformance(t *testing.T) {
	setupCluster(t)
	backendtest.Run(t, func(t *testing.T) backend.Backend { return newTestBackend(t) },
		backendtest.Options{Python: true, Node: true, HostAddr: fixture.selfHost})
}
