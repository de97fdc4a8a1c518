package process

import (
	"context"
	"fmt"
	"net"
	"os"
	"strconv"
	"time"

	"github.com/lambhq/lamb/engine/backend"
	"github.com/lambhq/lamb/runtimes"
)

// debugLaunch adapts argv and the environment for spec.Debug (see
// docs/debugging.md): python and node bootstraps start debugpy or the
// inspector themselves when LAMB_DEBUG_PORT is set; a JVM gets JDWP's agent
// (suspend=y under Wait); a provided bootstrap
// runs under delve headless (dlv on PATH, else LAMB_DLV).
func debugLaunch(ctx context.Context, family string, argv []string, d *backend.Debug) ([]string, []string, error) {
	if d == nil {
		return argv, nil, nil
	}
	if err := waitPortFree(ctx, d.Port); err != nil {
		return nil, nil, err
	}
	port := strconv.Itoa(d.Port)
	env := []string{"LAMB_DEBUG_PORT=" + port, "LAMB_DEBUG_HOST=127.0.0.1"}
	if d.Wait {
		env = append(env, "LAMB_DEBUG_WAIT=1")
	}
	switch family {
	case runtimes.FamilyPython:
		if p := os.Getenv("LAMB_DEBUGPY_PATH"); p != "" {
			env = append(env, "LAMB_DEBUGPY_PATH="+p)
		}
		return argv, env, nil
	case runtimes.FamilyNodejs:
		return argv, env, nil
	case runtimes.FamilyJava:
		// JDWP, the JVM's own debugger agent (jdb, IntelliJ, VS Code attach to it).
		suspend := "n"
		if d.Wait {
			suspend = "y"
		}
		agent := "-agentlib:jdwp=transport=dt_socket,server=y,suspend=" + suspend + ",address=127.0.0.1:" + port
		return append([]string{argv[0], agent}, argv[1:]...), nil, nil
	case runtimes.FamilyProvided:
		dlv, err := findDelve()
		if err != nil {
			return nil, nil, err
		}
		args := []string{dlv, "exec", "--headless", "--listen=127.0.0.1:" + port, "--api-version=2",
			"--accept-multiclient", "--log-dest=2"}
		if !d.Wait {
			args = append(args, "--continue")
		}
		args = append(args, argv[0], "--")
		return append(args, argv[1:]...), nil, nil
	}
	return nil, nil, fmt.Errorf("%w: --debug for runtime family %s", ErrUnsupported, family)
}

// findDelve locates dlv on lamb's host (backend.FindDelve).
func findDelve() (string, error) {
	if p, ok := backend.FindDelve(); ok {
		return p, nil
	}
	return "", fmt.Errorf("%w: --debug of a provided runtime needs delve (go install %s; dlv on PATH or LAMB_DLV)", ErrUnsupported, backend.DelveModule)
}

// waitPortFree waits (up to 10 s) until the debug port can be bound: the
// instance before this one (a code change, a crash) may still be going.
func waitPortFree(ctx context.Context, port int) error {
	deadline := time.Now().Add(10 * time.Second)
	for {
		ln, err := net.Listen("tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(port)))
		if err == nil {
			return ln.Close()
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("process backend: debug port %d: %w", port, err)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(50 * time.Millisecond):
		}
	}
}
