package docker

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/lambhq/lamb/internal/testenv"

	"github.com/lambhq/lamb/agent/agentapi"
	"github.com/lambhq/lamb/engine/backend"
)

// The test fixture: a Docker (or Podman) engine, the stand-in runtime images
// and a static agent binary, found or built once per test binary.
var fixture struct {
	once   sync.Once
	host   string
	images map[string]string
	agent  string
	err    error
	skip   string
}

var agentTmpDir string

func TestMain(m *testing.M) {
	code := m.Run()
	if agentTmpDir != "" {
		os.RemoveAll(agentTmpDir)
	}
	os.Exit(code)
}

// setup returns the engine's host, the images and the agent binary, skipping
// the test when no engine answers (failing instead when CI=true).
func setup(t *testing.T) (host string, images map[string]string, agentBin string) {
	t.Helper()
	fixture.once.Do(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		h, ok := Detect(ctx)
		if !ok {
			fixture.skip = "no Docker or Podman engine answers (tried LAMB_CONTAINER_HOST, DOCKER_HOST, /var/run/docker.sock, Podman sockets)"
			return
		}
		fixture.host = h
		fixture.images, fixture.err = testImages()
		if fixture.err != nil {
			return
		}
		fixture.agent, fixture.err = buildAgent()
	})
	testenv.Need(t, fixture.skip, fixture.skip == "")
	if fixture.err != nil {
		t.Fatal(fixture.err)
	}
	return fixture.host, fixture.images, fixture.agent
}

// testImages reads LAMB_TEST_IMAGES (FAMILY=IMAGE,...) or runs the build script.
func testImages() (map[string]string, error) {
	spec := os.Getenv("LAMB_TEST_IMAGES")
	if spec == "" {
		_, file, _, _ := runtime.Caller(0)
		script := filepath.Join(filepath.Dir(file), "..", "..", "..", "scripts", "build-runtime-images.sh")
		out, err := exec.Command(script).Output()
		if err != nil {
			var stderr string
			if xe, ok := err.(*exec.ExitError); ok {
				stderr = string(xe.Stderr)
			}
			return nil, fmt.Errorf("build runtime images: %w\n%s", err, stderr)
		}
		spec = strings.ReplaceAll(strings.TrimSpace(string(out)), "\n", ",")
	}
	images := map[string]string{}
	for _, kv := range strings.Split(spec, ",") {
		k, v, ok := strings.Cut(strings.TrimSpace(kv), "=")
		if ok {
			images[k] = v
		}
	}
	for _, fam := range []string{"python", "nodejs", "provided"} {
		if images[fam] == "" {
			return nil, fmt.Errorf("no %s image in %q", fam, spec)
		}
	}
	return images, nil
}

func buildAgent() (string, error) {
	dir, err := os.MkdirTemp("", "lamb-agent-test-")
	if err != nil {
		return "", err
	}
	agentTmpDir = dir
	out := filepath.Join(dir, "lamb")
	cmd := exec.Command("go", "build", "-o", out, "github.com/lambhq/lamb/agent/cmd/lamb-agent")
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
	if b, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("build agent: %w\n%s", err, b)
	}
	return out, nil
}

func randomID() string {
	b := make([]byte, 6)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// newTestBackend returns a backend with its own server ID, closed at the end.
func newTestBackend(t *testing.T) *Backend {
	t.Helper()
	return newTestBackendAs(t, "test-"+randomID())
}

// newTestBackendAs returns a backend with the given server ID, as a restarted
// server would have, and the config changes opts make.
func newTestBackendAs(t *testing.T, serverID string, opts ...func(*Config)) *Backend {
	t.Helper()
	host, images, agentBin := setup(t)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	// Tunnels wait in API until a test serves it (serveAPI).
	cfg := Config{Host: host, ServerID: serverID, RuntimeImages: images, AgentBinary: agentBin,
		API: agentapi.NewListener(nil)}
	for _, o := range opts {
		o(&cfg)
	}
	b, err := New(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		_ = b.Close(ctx)
	})
	return b
}

var _ backend.Backend = (*Backend)(nil)

// serveAPI serves h as lamb's API to b's functions (AWS_ENDPOINT_URL) until
// the test ends.
func serveAPI(t *testing.T, b *Backend, h http.Handler) {
	t.Helper()
	srv := &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second}
	served := make(chan struct{})
	go func() { defer close(served); _ = srv.Serve(b.cfg.API) }()
	t.Cleanup(func() { _ = srv.Close(); <-served })
}
