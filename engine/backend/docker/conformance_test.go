package docker

import (
	"testing"

	"github.com/lambhq/lamb/agent/agentapi"
	"github.com/lambhq/lamb/engine/backend"
	"github.com/lambhq/lamb/engine/backend/backendtest"
)

func TestConformance(t *testing.T) {
	setup(t)
	// The suite's stream cases serve the function's signal at
	// AWS_ENDPOINT_URL, through the agent's tunnels: no address of the host
	// is needed, as on a fresh engine whose bridge has none yet.
	// With sandboxes started ahead, as lamb serve runs it: the suite's
	// repeated launches of one function claim them.
	backendtest.Run(t, func(t *testing.T) backend.Backend {
		return newTestBackendAs(t, "test-"+randomID(), func(c *Config) { c.StartAhead = true })
	},
		backendtest.Options{Python: true, Node: true,
			API: func(b backend.Backend) *agentapi.Listener { return b.(*Backend).cfg.API }})
}
