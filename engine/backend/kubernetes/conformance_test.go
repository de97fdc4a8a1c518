package kubernetes

import (
	"testing"

	"github.com/lambhq/lamb/agent/agentapi"
	"github.com/lambhq/lamb/engine/backend"
	"github.com/lambhq/lamb/engine/backend/backendtest"
)

func TestConformance(t *testing.T) {
	setupCluster(t)
	// The stream cases' signal is served at AWS_ENDPOINT_URL, through the
	// agent's tunnel over the connection lamb holds to the Pod.
	backendtest.Run(t, func(t *testing.T) backend.Backend { return newTestBackend(t) },
		backendtest.Options{Python: true, Node: true,
			API: func(b backend.Backend) *agentapi.Listener { return b.(*Backend).cfg.API }})
}
