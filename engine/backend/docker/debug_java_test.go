package docker

import (
	"slices"
	"testing"

	"github.com/docker/docker/api/types/container"
	"github.com/docker/go-connections/nat"

	"github.com/lambhq/lamb/engine/backend"
)

// A java function's JDWP port: the image's bootstrap reads LAMB_DEBUG_*, and
// the port is published on the host's loopback only.
func TestDebugContainerJava(t *testing.T) {
	for _, tc := range []struct {
		name    string
		spec    backend.Spec
		wantErr bool
	}{
		{"zip, wait", backend.Spec{Runtime: "java21", Debug: &backend.Debug{Port: 5005, Wait: true}}, false},
		{"image", backend.Spec{Runtime: "java21", PackageType: "Image", Debug: &backend.Debug{Port: 5005}}, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c, hc := &container.Config{}, &container.HostConfig{}
			err := debugContainer(&tc.spec, c, hc)
			if tc.wantErr {
				if err == nil {
					t.Fatal("no error")
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			for _, kv := range []string{"LAMB_DEBUG_PORT=5005", "LAMB_DEBUG_HOST=0.0.0.0", "LAMB_DEBUG_WAIT=1"} {
				if !slices.Contains(c.Env, kv) {
					t.Errorf("env %v lacks %s", c.Env, kv)
				}
			}
			b := hc.PortBindings[nat.Port("5005/tcp")]
			if len(b) != 1 || b[0].HostIP != "127.0.0.1" || b[0].HostPort != "5005" {
				t.Errorf("port bindings %v", hc.PortBindings)
			}
		})
	}
}
