package bench

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"
)

// privateEngine is a dockerd or Podman API service of the soak's own: its
// own socket, data root, state and bridge, so that the soak can restart it
// (and kill its containers) without touching the engines other tests use.
// Its bridge has no NAT or iptables rules: lamb's functions need none
// (AWS_ENDPOINT_URL is carried by their agent over lamb's own connection).
type privateEngine struct {
	kind   string // "docker" or "podman"
	dir    string
	sock   string
	bridge string
	images string // LAMB_RUNTIME_IMAGES for the lamb that uses it
	proc   *proc
}

// Addresses of the private bridges: out of Docker's and Podman's defaults
// (172.17/16, 10.88/16) and of each other.
var privateBridges = map[string]struct{ name, cidr, subnet, gw string }{
	"docker": {"lambsoakd0", "172.31.250.1/24", "", ""},
	"podman": {"lambsoakp0", "", "10.99.7.0/24", "10.99.7.1"},
}

// startPrivateEngine starts a private engine of kind and loads the runtime
// images named by images (KEY=IMAGE pairs, as LAMB_TEST_IMAGES) into it
// from the engine that has them (the default Docker engine).
func startPrivateEngine(ctx context.Context, kind, dir, images string) (*privateEngine, error) {
	if os.Geteuid() != 0 {
		return nil, errors.New("a private engine needs root (its bridge)")
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, err
	}
	br := privateBridges[kind]
	e := &privateEngine{kind: kind, dir: dir, sock: filepath.Join(dir, kind+".sock"), bridge: br.name, images: images}
	switch kind {
	case "docker":
		// dockerd takes an existing bridge (--bridge) and leaves it alone.
		_ = exec.Command("ip", "link", "del", br.name).Run()
		for _, args := range [][]string{
			{"link", "add", br.name, "type", "bridge"},
			{"addr", "add", br.cidr, "dev", br.name},
			{"link", "set", br.name, "up"},
		} {
			if out, err := exec.Command("ip", args...).CombinedOutput(); err != nil {
				return nil, fmt.Errorf("ip %s: %w: %s", strings.Join(args, " "), err, out)
			}
		}
	case "podman":
		// Podman's default network would be the shared podman0: a network
		// file of our own, named as the default, gives it a bridge of its own.
		netDir := filepath.Join(dir, "net")
		if err := os.MkdirAll(netDir, 0o700); err != nil {
			return nil, err
		}
		id := sha256.Sum256([]byte(dir))
		netJSON := fmt.Sprintf(`{"name":"lambsoak","id":%q,"driver":"bridge","network_interface":%q,"created":"2026-01-01T00:00:00Z",`+
			`"subnets":[{"subnet":%q,"gateway":%q}],"ipv6_enabled":false,"internal":false,"dns_enabled":false,"ipam_options":{"driver":"host-local"}}`,
			hex.EncodeToString(id[:]), br.name, br.subnet, br.gw)
		conf := fmt.Sprintf("[containers]\ndefault_ulimits = [\"nofile=1024:1024\", \"nproc=4096:4096\"]\n"+
			"[network]\ndefault_network = \"lambsoak\"\nnetwork_config_dir = %q\n", netDir)
		if err := os.WriteFile(filepath.Join(netDir, "lambsoak.json"), []byte(netJSON), 0o600); err != nil {
			return nil, err
		}
		if err := os.WriteFile(filepath.Join(dir, "containers.conf"), []byte(conf), 0o600); err != nil {
			return nil, err
		}
	default:
		return nil, fmt.Errorf("no private engine of kind %q", kind)
	}
	if err := e.start(ctx); err != nil {
		return nil, err
	}
	if err := e.loadImages(ctx); err != nil {
		e.close()
		return nil, err
	}
	return e, nil
}

// env is what a client (lamb, the CLI) of the engine runs with.
func (e *privateEngine) env() []string {
	if e.kind == "docker" {
		return []string{"DOCKER_HOST=unix://" + e.sock, "LAMB_CONTAINER_HOST=unix://" + e.sock}
	}
	return []string{"CONTAINER_HOST=unix://" + e.sock, "LAMB_CONTAINER_HOST=unix://" + e.sock,
		"CONTAINERS_CONF=" + filepath.Join(e.dir, "containers.conf")}
}

func (e *privateEngine) start(ctx context.Context) error {
	var bin string
	var args, env []string
	switch e.kind {
	case "docker":
		bin = "dockerd"
		args = []string{"--data-root", filepath.Join(e.dir, "data"), "--exec-root", filepath.Join(e.dir, "exec"),
			"--pidfile", filepath.Join(e.dir, "dockerd.pid"), "-H", "unix://" + e.sock,
			"--bridge", e.bridge, "--iptables=false", "--ip6tables=false"}
	case "podman":
		bin = "podman"
		args = []string{"--root", filepath.Join(e.dir, "root"), "--runroot", filepath.Join(e.dir, "run"),
			"--tmpdir", filepath.Join(e.dir, "tmp"), "system", "service", "--time=0", "unix://" + e.sock}
		env = []string{"CONTAINERS_CONF=" + filepath.Join(e.dir, "containers.conf")}
	}
	_ = os.Remove(e.sock)
	p, err := startProc(filepath.Join(e.dir, e.kind+".log"), e.dir, env, bin, args...)
	if err != nil {
		return err
	}
	e.proc = p
	if err := p.waitReady(ctx, func() bool { return e.cli(ctx, "version").Run() == nil }); err != nil {
		return fmt.Errorf("private %s: %w", e.kind, err)
	}
	return nil
}

// restart stops the engine as a service manager would (SIGTERM, then
// SIGKILL) and starts it again on the same state. dockerd stops its
// containers; Podman's containers outlive its API service.
func (e *privateEngine) restart(ctx context.Context) error {
	e.proc.stop()
	return e.start(ctx)
}

func (e *privateEngine) cli(ctx context.Context, args ...string) *exec.Cmd {
	var c *exec.Cmd
	if e.kind == "docker" {
		c = exec.CommandContext(ctx, "docker", append([]string{"-H", "unix://" + e.sock}, args...)...)
	} else {
		c = exec.CommandContext(ctx, "podman", append([]string{"--url", "unix://" + e.sock}, args...)...)
	}
	c.Env = append(os.Environ(), e.env()...)
	return c
}

// loadImages copies the images from the default Docker engine (docker save)
// into the private one.
func (e *privateEngine) loadImages(ctx context.Context) error {
	var names []string
	for _, kv := range strings.Split(e.images, ",") {
		if _, img, ok := strings.Cut(kv, "="); ok {
			names = append(names, img)
		}
	}
	if len(names) == 0 {
		return errors.New("no runtime images to load (LAMB_TEST_IMAGES)")
	}
	save := exec.CommandContext(ctx, "docker", append([]string{"save"}, names...)...)
	save.Env = os.Environ()
	load := e.cli(ctx, "load")
	pipe, err := save.StdoutPipe()
	if err != nil {
		return err
	}
	load.Stdin = pipe
	if err := save.Start(); err != nil {
		return fmt.Errorf("docker save: %w", err)
	}
	out, lerr := load.CombinedOutput()
	serr := save.Wait()
	if lerr != nil || serr != nil {
		return fmt.Errorf("load images into private %s: %w; docker save: %v: %s", e.kind, lerr, serr, out)
	}
	return nil
}

// containers lists the engine's containers with label (running or not).
func (e *privateEngine) containers(ctx context.Context, label string) []string {
	out, err := e.cli(ctx, "ps", "-aq", "--filter", "label="+label).Output()
	if err != nil {
		return []string{"list containers: " + err.Error()}
	}
	return strings.Fields(string(out))
}

// killInstance kills one of lamb's instance containers behind lamb's back.
// Each call is bounded: a CLI call that hangs (a Podman service just
// restarted) must not stall the chaos loop for the rest of the soak.
func (e *privateEngine) killInstance(ctx context.Context) bool {
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	out, err := e.cli(ctx, "ps", "-q", "--filter", "label=lamb.instance").Output()
	ids := strings.Fields(string(out))
	if err != nil || len(ids) == 0 {
		return false
	}
	return e.cli(ctx, "kill", ids[rand.IntN(len(ids))]).Run() == nil
}

// close stops the engine after removing every container it holds, and
// removes its state and bridge.
func (e *privateEngine) close() {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if ids := e.containers(ctx, "lamb.managed"); len(ids) > 0 {
		_ = e.cli(ctx, append([]string{"rm", "-f"}, ids...)...).Run()
	}
	if e.proc != nil {
		e.proc.stop()
	}
	killShims(e.dir) // a private dockerd's shims outlive it
	if e.kind == "podman" {
		// conmon and the container processes are not the service's children.
		_ = exec.Command("podman", "--root", filepath.Join(e.dir, "root"), "--runroot", filepath.Join(e.dir, "run"),
			"rm", "-af", "-t0").Run()
	}
	detachMounts(e.dir) // the engine's leftovers (overlay, shm, netns) would keep the state
	_ = os.RemoveAll(e.dir)
	_ = exec.Command("ip", "link", "del", e.bridge).Run()
}
