package docker

import (
	"errors"
	"fmt"
	"strconv"

	"github.com/docker/docker/api/types/container"
	"github.com/docker/go-connections/nat"

	"github.com/lambhq/lamb/engine/backend"
	"github.com/lambhq/lamb/runtimes"
)

// errDebugUnsupported: --debug of a runtime whose debugger lamb cannot
// start in a container (provided: delve is not in the runtime images).
var errDebugUnsupported = errors.New("docker backend: --debug")

// debugContainer sets a debugged instance up (docs/debugging.md): the
// bootstrap's debugger (debugpy, node's inspector, JDWP) listens on 0.0.0.0:PORT
// inside the container, published on 127.0.0.1:PORT of the host only. The
// container has a network of its own (no spare holder: ports are published
// on the container that owns the namespace).
func debugContainer(spec *backend.Spec, c *container.Config, hc *container.HostConfig) error {
	d := spec.Debug
	if d == nil {
		return nil
	}
	rt, _ := runtimes.Lookup(spec.Runtime)
	// java: the java image's bootstrap starts the JVM with JDWP's agent on
	// LAMB_DEBUG_PORT (scripts/build-runtime-images.sh).
	java := spec.PackageType != "Image" && rt.Family == runtimes.FamilyJava
	if !java && (spec.PackageType == "Image" || (rt.Family != runtimes.FamilyPython && rt.Family != runtimes.FamilyNodejs)) {
		return fmt.Errorf("%w: runtime %q: only python and nodejs are debugged in containers (use --backend process)", errDebugUnsupported, spec.Runtime)
	}
	port := strconv.Itoa(d.Port)
	c.Env = append(c.Env, "LAMB_DEBUG_PORT="+port, "LAMB_DEBUG_HOST=0.0.0.0")
	if d.Wait {
		c.Env = append(c.Env, "LAMB_DEBUG_WAIT=1")
	}
	p := nat.Port(port + "/tcp")
	if c.ExposedPorts == nil {
		c.ExposedPorts = nat.PortSet{}
	}
	c.ExposedPorts[p] = struct{}{}
	if hc.PortBindings == nil {
		hc.PortBindings = nat.PortMap{}
	}
	hc.PortBindings[p] = []nat.PortBinding{{HostIP: "127.0.0.1", HostPort: port}}
	return nil
}
