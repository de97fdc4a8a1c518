package bench

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// The Docker backend benchmarks put lamb's whole path (Invoke API → engine →
// Docker backend → agent → runtime) side by side with AWS's RIE run in a
// container of the same stand-in runtime image, reached through a port
// published on 127.0.0.1, with the same aws-lambda-go and python handlers.
// They skip when no Docker engine answers the docker CLI.
//
// Environment: LAMB_BENCH_IMAGES (FAMILY=IMAGE,... as printed by
// scripts/build-runtime-images.sh; else that script is run),
// LAMB_BENCH_LAMB_STATIC and LAMB_BENCH_RIE_STATIC (binaries built with
// CGO_ENABLED=0: lamb ships itself into containers as the agent, and the RIE
// runs inside one; else they are built), LAMB_BENCH_ECHO as for the process
// benchmarks, LAMB_BENCH_DOCKER (the CLI, default docker).

// A runtime the Docker benchmarks compare: lamb's function and the RIE image
// built from the same stand-in image with the same handler.
type dockerRuntime struct {
	fn     string // function on lamb (specs)
	family string // stand-in image family
}

var dockerRuntimes = map[string]dockerRuntime{
	"go":     {fn: fnEchoGo, family: "provided"},
	"python": {fn: fnEchoPy, family: "python"},
}

// rieInImage is where the RIE binary goes in its baseline images.
const rieInImage = "/usr/local/bin/aws-lambda-rie"

// dockerBench is one benchmark's `lamb serve --backend docker` (in the
// embedded harness, so that its function helpers serve both backends) and the
// RIE baseline images. Everything is removed by the benchmark's Cleanup.
type dockerBench struct {
	*harness
	cli     string
	images  map[string]string // family → stand-in image
	rieImgs map[string]string // dockerRuntimes key → RIE image
	owner   string            // value of the lamb.bench label on RIE containers
}

// setupDocker starts lamb on the Docker backend and builds the RIE images, or
// skips the benchmark when no Docker engine answers.
func setupDocker(b *testing.B) *dockerBench {
	b.Helper()
	ctx := b.Context()
	cli := os.Getenv("LAMB_BENCH_DOCKER")
	if cli == "" {
		cli = "docker"
	}
	if _, err := exec.LookPath(cli); err != nil {
		b.Skipf("no %s CLI: %v", cli, err)
	}
	pctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	out, err := exec.CommandContext(pctx, cli, "version", "--format", "{{.Server.Version}}").CombinedOutput()
	cancel()
	if err != nil {
		b.Skipf("no Docker engine answers %s: %v: %s", cli, err, bytes.TrimSpace(out))
	}
	images, err := runtimeImages(ctx, cli)
	if err != nil {
		b.Fatal(err)
	}

	dir, err := os.MkdirTemp("", "lamb-bench-docker-")
	if err != nil {
		b.Fatal(err)
	}
	d := &dockerBench{
		harness: &harness{
			dir:     dir,
			created: map[string]bool{},
			httpc: &http.Client{
				Transport: &http.Transport{MaxIdleConnsPerHost: 16, DisableCompression: true},
				// A cold start takes about a second: a call that takes this
				// long hangs, and fails the benchmark rather than stalling it.
				Timeout: 30 * time.Second,
			},
		},
		cli:     cli,
		images:  images,
		rieImgs: map[string]string{},
		owner:   randomHex(6),
	}
	b.Cleanup(d.close)
	h := d.harness
	if h.lambBin, err = binary(ctx, "LAMB_BENCH_LAMB_STATIC", filepath.Join(dir, "lamb"), []string{"CGO_ENABLED=0"},
		"go", "build", "-o", filepath.Join(dir, "lamb"), "github.com/lambhq/lamb/cmd/lamb"); err != nil {
		b.Fatal(err)
	}
	if h.echoBin, err = binary(ctx, "LAMB_BENCH_ECHO", filepath.Join(dir, "echo"), []string{"CGO_ENABLED=0"},
		"go", "build", "-o", filepath.Join(dir, "echo"), "./testdata/echo"); err != nil {
		b.Fatal(err)
	}
	if h.rieBin, err = binary(ctx, "LAMB_BENCH_RIE_STATIC", filepath.Join(dir, "aws-lambda-rie"), []string{"CGO_ENABLED=0", "GOBIN=" + dir},
		"go", "install", rieModule+"@"+rieVersion); err != nil {
		b.Fatal(err)
	}

	addr, err := freeAddr()
	if err != nil {
		b.Fatal(err)
	}
	h.lambURL = "http://" + addr
	args := []string{"serve", "--ephemeral", "--backend", "docker", "--addr", addr, "--max-instances", "10"}
	for _, fam := range []string{"provided", "python", "nodejs"} {
		if img := images[fam]; img != "" {
			args = append(args, "--runtime-image", fam+"="+img)
		}
	}
	if h.lamb, err = startProc(filepath.Join(dir, "lamb.log"), dir, nil, h.lambBin, args...); err != nil {
		b.Fatal(err)
	}
	if err := h.lamb.waitReady(ctx, func() bool { return httpOK(h.httpc, h.lambURL+"/_lamb/health") }); err != nil {
		b.Fatalf("lamb serve --backend docker: %v", err)
	}
	if be, err := healthBackend(ctx, h.httpc, h.lambURL); err != nil || be != "docker" {
		b.Fatalf("lamb serves on backend %q (%v), want docker", be, err)
	}
	h.sdk = h.newSDK()
	for rt := range dockerRuntimes {
		if err := d.buildRIEImage(ctx, rt); err != nil {
			b.Fatal(err)
		}
	}
	return d
}

// runtimeImages reads the stand-in images from LAMB_BENCH_IMAGES or from
// scripts/build-runtime-images.sh (instant when they are built already).
func runtimeImages(ctx context.Context, cli string) (map[string]string, error) {
	spec := os.Getenv("LAMB_BENCH_IMAGES")
	if spec == "" {
		cmd := exec.CommandContext(ctx, "bash", filepath.Join("..", "scripts", "build-runtime-images.sh"))
		cmd.Env = append(os.Environ(), "DOCKER="+cli, "LAMB_IMAGE_FAMILIES=provided python")
		var stderr bytes.Buffer
		cmd.Stderr = &stderr
		out, err := cmd.Output()
		if err != nil {
			return nil, fmt.Errorf("scripts/build-runtime-images.sh: %w\n%s", err, stderr.Bytes())
		}
		spec = string(out)
	}
	images := parseImages(spec)
	for _, rt := range dockerRuntimes {
		if images[rt.family] == "" {
			return nil, fmt.Errorf("no %s stand-in image in %q", rt.family, spec)
		}
	}
	return images, nil
}

// parseImages reads FAMILY=IMAGE pairs separated by commas or new lines.
func parseImages(spec string) map[string]string {
	images := map[string]string{}
	for _, kv := range strings.FieldsFunc(spec, func(r rune) bool { return r == ',' || r == '\n' }) {
		if k, v, ok := strings.Cut(strings.TrimSpace(kv), "="); ok && k != "" && v != "" {
			images[k] = v
		}
	}
	return images
}

func healthBackend(ctx context.Context, c *http.Client, base string) (string, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, base+"/_lamb/health", nil)
	if err != nil {
		return "", err
	}
	resp, err := c.Do(req)
	if err != nil {
		return "", fmt.Errorf("health: %w", err)
	}
	defer resp.Body.Close()
	var health struct {
		Backend string `json:"backend"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&health); err != nil {
		return "", fmt.Errorf("health: %w", err)
	}
	return health.Backend, nil
}

// buildRIEImage makes the baseline image of a runtime: its stand-in image
// with the RIE and the handler copied in (docker create, cp, commit: no
// registry and no builder needed), the RIE as entrypoint running the same
// bootstrap lamb's agent would.
func (d *dockerBench) buildRIEImage(ctx context.Context, rt string) error {
	r := dockerRuntimes[rt]
	base := d.images[r.family]
	id, err := d.docker(ctx, "create", "--label", "lamb.bench="+d.owner, base)
	if err != nil {
		return err
	}
	defer func() { _, _ = d.docker(context.WithoutCancel(ctx), "rm", "-f", id) }()
	changes := []string{"--change", "CMD []", "--change", "LABEL lamb.bench=" + d.owner}
	switch rt {
	case "go":
		if _, err := d.docker(ctx, "cp", d.echoBin, id+":/var/task/bootstrap"); err != nil {
			return err
		}
		changes = append(changes, "--change", `ENTRYPOINT ["`+rieInImage+`", "/var/task/bootstrap"]`)
	case "python":
		if _, err := d.docker(ctx, "cp", filepath.Join("testdata", "pyecho", "handler.py"), id+":/var/task/handler.py"); err != nil {
			return err
		}
		changes = append(changes, "--change", `ENTRYPOINT ["`+rieInImage+`", "/var/runtime/bootstrap"]`,
			"--change", "ENV _HANDLER="+specs[r.fn].handler)
	default:
		return fmt.Errorf("no RIE image for runtime %q", rt)
	}
	if _, err := d.docker(ctx, "cp", d.rieBin, id+":"+rieInImage); err != nil {
		return err
	}
	tag := "lamb-bench-rie-" + rt + ":" + d.owner
	args := append([]string{"commit"}, changes...)
	if _, err := d.docker(ctx, append(args, id, tag)...); err != nil {
		return err
	}
	d.rieImgs[rt] = tag
	return nil
}

// rieContainer is one RIE baseline container.
type rieContainer struct {
	id, url string
	run     time.Duration // until `docker run -d` returned
	ready   time.Duration // until its first invoke answered
}

// startRIE is the cold baseline: `docker run -d -p 127.0.0.1:PORT:8080` of
// the runtime's RIE image, then invokes until one answers with the echo (the
// RIE has no readiness signal; polling for it is part of its cost).
func (d *dockerBench) startRIE(ctx context.Context, rt string, payload []byte) (*rieContainer, error) {
	addr, err := freeAddr()
	if err != nil {
		return nil, err
	}
	start := time.Now()
	id, err := d.docker(ctx, "run", "-d", "--label", "lamb.bench="+d.owner, "-p", addr+":8080", d.rieImgs[rt])
	if err != nil {
		return nil, err
	}
	c := &rieContainer{id: id, url: "http://" + addr + riePath, run: time.Since(start)}
	if err := pollInvoke(ctx, d.httpc, c.url, payload); err != nil {
		logs, _ := d.docker(context.WithoutCancel(ctx), "logs", "--tail", "20", id)
		d.removeContainer(ctx, c)
		return nil, fmt.Errorf("RIE container %s: %w\n%s", rt, err, logs)
	}
	c.ready = time.Since(start)
	return c, nil
}

func (d *dockerBench) removeContainer(ctx context.Context, c *rieContainer) {
	_, _ = d.docker(context.WithoutCancel(ctx), "rm", "-f", c.id)
}

// pollInvoke invokes until an invoke succeeds, one fails in the function
// (the RIE was up and the echo is wrong: no point in retrying) or readyLimit
// passes. Until the RIE listens, the published port's proxy accepts and
// closes connections.
func pollInvoke(ctx context.Context, c *http.Client, url string, payload []byte) error {
	ctx, cancel := context.WithTimeout(ctx, readyLimit)
	defer cancel()
	tick := time.NewTicker(time.Millisecond)
	defer tick.Stop()
	for {
		err := invoke(ctx, c, url, payload)
		if err == nil || errors.Is(err, errFunction) {
			return err
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("no answer: %w (last: %w)", ctx.Err(), err)
		case <-tick.C:
		}
	}
}

// docker runs the CLI and returns its trimmed standard output.
func (d *dockerBench) docker(ctx context.Context, args ...string) (string, error) {
	var stdout, stderr bytes.Buffer
	cmd := exec.CommandContext(ctx, d.cli, args...)
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		return "", fmt.Errorf("%s %s: %w: %s", d.cli, args[0], err, bytes.TrimSpace(stderr.Bytes()))
	}
	return strings.TrimSpace(stdout.String()), nil
}

// close removes every RIE container and image of this benchmark, then stops
// lamb, which removes its own containers on SIGTERM. After a killed run,
// `docker rm -f $(docker ps -aq --filter label=lamb.bench)` and
// `docker rmi $(docker images -q --filter label=lamb.bench)` clear leftovers.
func (d *dockerBench) close() {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if ids, err := d.docker(ctx, "ps", "-aq", "--filter", "label=lamb.bench="+d.owner); err == nil && ids != "" {
		_, _ = d.docker(ctx, append([]string{"rm", "-f"}, strings.Fields(ids)...)...)
	}
	for _, img := range d.rieImgs {
		_, _ = d.docker(ctx, "rmi", "-f", img)
	}
	d.harness.close()
}

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// fatalf fails the benchmark with the end of lamb's log, which tells a
// hang or an error inside lamb from one of the baseline.
func (d *dockerBench) fatalf(b *testing.B, format string, args ...any) {
	b.Helper()
	b.Fatalf(format+"\n--- end of lamb's log:\n%s", append(args, d.lamb.logTail())...)
}

// BenchmarkDockerWarmInvoke is BenchmarkWarmInvoke on the Docker backend:
// sequential warm invokes through lamb and through a long-lived RIE container
// of the same image, interleaved call by call, per runtime (go: the
// aws-lambda-go echo on provided; python: handler.py on the python image).
// The RIE is called at its published port (the baseline, rie) and at its
// container's address (rie_direct), which skips the engine's port proxy.
// Recommended: -benchtime=2000x.
func BenchmarkDockerWarmInvoke(b *testing.B) { perDockerRuntime(b, benchDockerWarm) }

// perDockerRuntime runs bench as a sub-benchmark per runtime (go, python) on
// one Docker set-up.
func perDockerRuntime(b *testing.B, bench func(b *testing.B, d *dockerBench, rt string)) {
	d := setupDocker(b)
	for _, rt := range []string{"go", "python"} {
		b.Run(rt, func(b *testing.B) { bench(b, d, rt) })
	}
}

func benchDockerWarm(b *testing.B, d *dockerBench, rt string) {
	ctx := b.Context()
	lambURL, err := d.ensureFunction(ctx, dockerRuntimes[rt].fn)
	if err != nil {
		d.fatalf(b, "%v", err)
	}
	c, err := d.startRIE(ctx, rt, warmPayload)
	if err != nil {
		d.fatalf(b, "%v", err)
	}
	b.Cleanup(func() { d.removeContainer(ctx, c) })
	// The same RIE at its container's address, past the published port's
	// proxy (as lamb reaches its agents on a rootful engine): a second,
	// stricter baseline.
	ip, err := d.docker(ctx, "inspect", "--format", "{{.NetworkSettings.IPAddress}}", c.id)
	if err != nil || ip == "" {
		d.fatalf(b, "address of the RIE container: %q, %v", ip, err)
	}
	urls := []string{lambURL, c.url, "http://" + net.JoinHostPort(ip, "8080") + riePath}
	lat := benchInterleaved(b, d.httpc, urls, warmPayload, func(format string, args ...any) { d.fatalf(b, format, args...) })
	lamb, rie, direct := lat[0], lat[1], lat[2]
	reportWarm(b, lamb, rie)
	b.ReportMetric(micros(direct.percentile(50)), "rie_direct_p50_us")
	b.ReportMetric(ratio(micros(lamb.percentile(50)), micros(direct.percentile(50))), "ratio_direct_p50")
}

// BenchmarkDockerColdStart compares cold starts per runtime. Per iteration,
// in an order that alternates:
//   - lamb: the function's instances are evicted (POST
//     /_lamb/functions/{name}/evict, then none is listed); the next Invoke is
//     timed to its response;
//   - lamb_new: a function created just now and Active (CreateFunction's
//     waiter done, untimed); its first Invoke is timed; deleted afterwards;
//   - rie (the baseline): `docker run -d -p 127.0.0.1:PORT:8080` of the RIE
//     image plus polling invokes until the first answers, timed together;
//     rie_run is the `docker run -d` part alone;
//   - docker_run (the floor): `docker run --rm --entrypoint /bin/true` of the
//     runtime's stand-in image, what any container start costs before a
//     runtime runs; ratio_docker_run_p50 is lamb over it.
//
// Only the timed parts run with the benchmark timer on. Goal: lamb and
// lamb_new ≤ 0.75 × rie at p50 (docker_run has none: it starts no runtime).
// Recommended: -benchtime=15x.
func BenchmarkDockerColdStart(b *testing.B) { perDockerRuntime(b, benchDockerCold) }

func benchDockerCold(b *testing.B, d *dockerBench, rt string) {
	ctx := b.Context()
	fn := dockerRuntimes[rt].fn
	url, err := d.ensureFunction(ctx, fn)
	if err != nil {
		d.fatalf(b, "%v", err)
	}
	timed := func(url string) time.Duration {
		return timedColdInvoke(b, d.httpc, url, func(format string, args ...any) { d.fatalf(b, format, args...) })
	}
	var lamb, lambNew, rie, rieRun, dockerRun samples
	evicted := func() {
		if err := d.evict(ctx, fn); err != nil {
			d.fatalf(b, "%v", err)
		}
		// The sample is only a cold start if nothing of the function is left.
		if n, err := d.instances(ctx, fn); err != nil || n != 0 {
			d.fatalf(b, "after evict: %d instances of %s (%v)", n, fn, err)
		}
		lamb = append(lamb, timed(url))
	}
	fresh := func() {
		name, err := d.freshFunction(ctx, fn)
		if err != nil {
			d.fatalf(b, "%v", err)
		}
		lambNew = append(lambNew, timed(d.invokeURL(name)))
		if err := d.deleteFunction(ctx, name); err != nil {
			d.fatalf(b, "%v", err)
		}
	}
	baseline := func() {
		b.StartTimer()
		c, err := d.startRIE(ctx, rt, coldPayload)
		b.StopTimer()
		if err != nil {
			d.fatalf(b, "%v", err)
		}
		rie, rieRun = append(rie, c.ready), append(rieRun, c.run)
		d.removeContainer(ctx, c)
	}
	floor := func() {
		b.StartTimer()
		start := time.Now()
		_, err := d.docker(ctx, "run", "--rm", "--label", "lamb.bench="+d.owner, "--entrypoint", "/bin/true", d.images[dockerRuntimes[rt].family])
		dur := time.Since(start)
		b.StopTimer()
		if err != nil {
			d.fatalf(b, "%v", err)
		}
		dockerRun = append(dockerRun, dur)
	}
	steps := []func(){evicted, fresh, baseline, floor}
	i := 0
	for b.Loop() {
		b.StopTimer()
		// Rotate the order, so that whatever one step leaves behind (a
		// container being removed) weighs on each side alike.
		for k := range steps {
			steps[(i+k)%len(steps)]()
		}
		i++
		b.StartTimer() // b.Loop wants the timer running
	}
	b.ReportMetric(millis(lamb.percentile(50)), "lamb_p50_ms")
	b.ReportMetric(millis(lambNew.percentile(50)), "lamb_new_p50_ms")
	b.ReportMetric(millis(rie.percentile(50)), "rie_p50_ms")
	b.ReportMetric(millis(rieRun.percentile(50)), "rie_run_p50_ms")
	b.ReportMetric(millis(dockerRun.percentile(50)), "docker_run_p50_ms")
	b.ReportMetric(ratio(millis(lamb.percentile(50)), millis(rie.percentile(50))), "ratio_p50")
	b.ReportMetric(ratio(millis(lambNew.percentile(50)), millis(rie.percentile(50))), "ratio_new_p50")
	b.ReportMetric(ratio(millis(lamb.percentile(50)), millis(dockerRun.percentile(50))), "ratio_docker_run_p50")
}

// BenchmarkDockerScaleOut is BenchmarkScaleOut on the Docker backend: a
// function that works 20 ms, one client then four concurrent clients over
// -bench.window each, after warming four instances (goal ≥ 3.5×).
// Recommended: -benchtime=1x.
func BenchmarkDockerScaleOut(b *testing.B) {
	d := setupDocker(b)
	url, err := d.ensureFunction(b.Context(), fnSleepGo)
	if err != nil {
		d.fatalf(b, "%v", err)
	}
	benchScaleOut(b, d.harness, url, func(format string, args ...any) { d.fatalf(b, format, args...) })
}
