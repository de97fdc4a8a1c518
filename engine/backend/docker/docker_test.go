package docker

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/docker/docker/api/types/container"
	"github.com/docker/docker/api/types/filters"
	"github.com/docker/docker/api/types/volume"

	"github.com/lambhq/lamb/agent/agentapi"
	"github.com/lambhq/lamb/engine/backend"
	"github.com/lambhq/lamb/engine/backend/backendtest"
)

var seq int

func testSpec(t *testing.T, runtime, handler string, code backend.Artifact) *backend.Spec {
	seq++
	return &backend.Spec{
		InstanceID: fmt.Sprintf("dt-%s-%d", randomID(), seq), PoolKey: "pool", FunctionName: "fn",
		FunctionARN: "arn:aws:lambda:us-east-1:000000000000:function:fn", Version: "$LATEST",
		PackageType: "Zip", Runtime: runtime, Handler: handler, MemoryMB: 256, EphemeralStorageMB: 512,
		Timeout: 30 * time.Second, Code: code,
		Env: map[string]string{"_HANDLER": handler, "AWS_LAMBDA_FUNCTION_NAME": "fn", "AWS_REGION": "us-east-1"},
	}
}

func launch(t *testing.T, b *Backend, spec *backend.Spec) backend.Instance {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	in, err := b.Launch(ctx, spec)
	if err != nil {
		t.Fatalf("launch: %v", err)
	}
	t.Cleanup(func() { _ = in.Stop(context.Background()) })
	return in
}

func invoke(t *testing.T, in backend.Instance, payload string) (*backend.Response, []byte, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	resp, err := in.Invoke(ctx, &backend.Invocation{RequestID: "req-" + randomID(), Payload: []byte(payload),
		Deadline: time.Now().Add(time.Minute), InvokedFunctionARN: "arn:aws:lambda:us-east-1:000000000000:function:fn"})
	if err != nil {
		return nil, nil, err
	}
	body, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	return resp, body, err
}

func waitDone(t *testing.T, in backend.Instance) {
	t.Helper()
	select {
	case <-in.Done():
	case <-time.After(30 * time.Second):
		t.Fatal("instance did not end")
	}
}

const probeApp = `import json, os, socket, urllib.request
def handler(event, context):
    out = {}
    if "fetch" in event:
        try:
            with urllib.request.urlopen(os.environ["AWS_ENDPOINT_URL"] + event["fetch"], timeout=10) as r:
                out["fetched"] = r.read().decode()
        except Exception as e:
            out["fetched"] = "error: " + repr(e)
    for name in event.get("resolve", []):
        try:
            out[name] = socket.gethostbyname(name)
        except Exception as e:
            out[name] = "error: " + repr(e)
    for p in event.get("read", []):
        try:
            out[p] = open(p).read()
        except Exception as e:
            out[p] = "error: " + type(e).__name__
    for p in event.get("write", []):
        try:
            open(p, "w").write("x")
            out[p] = "written"
        except Exception as e:
            out[p] = "error: " + type(e).__name__
    if "import" in event:
        import greet
        out["greet"] = greet.hello()
        out["greet_file"] = greet.__file__
    if "alloc" in event:
        b = bytearray(event["alloc"] * 1024 * 1024)
        for i in range(0, len(b), 4096):
            b[i] = 1
        out["alloc"] = len(b)
    for req in event.get("http", []):
        method = req.get("method", "GET")
        r = urllib.request.Request(req["url"], method=method, headers=req.get("headers", {}),
                                   data=b"{}" if method == "POST" else None)
        try:
            with urllib.request.urlopen(r, timeout=10) as resp:
                out[req["name"]] = resp.status
        except urllib.error.HTTPError as e:
            out[req["name"]] = e.code
        except Exception as e:
            out[req["name"]] = "error: " + repr(e)
    if event.get("ids"):
        out["ids"] = [os.getuid(), os.geteuid(), os.getgid(), os.getegid(), os.getgroups()]
    out["env"] = {k: os.environ.get(k) for k in event.get("env", [])}
    return out
`

// TestSandbox checks the container looks like an AWS sandbox: code in
// /var/task, layers merged into /opt (later layers win), a read-only root,
// a writable /tmp, the endpoint variable.
func TestSandbox(t *testing.T) {
	b := newTestBackend(t)
	code := backendtest.ZipArtifact(t, map[string]string{"app.py": probeApp, "data/hello.txt": "from code"})
	l1 := backendtest.ZipArtifact(t, map[string]string{"python/greet.py": "def hello():\n    return 'layer one'\n", "one.txt": "1"})
	l2 := backendtest.ZipArtifact(t, map[string]string{"python/greet.py": "def hello():\n    return 'layer two'\n", "two.txt": "2"})
	spec := testSpec(t, "python3.12", "app.handler", code)
	spec.Layers = []backend.Artifact{l1, l2}
	in := launch(t, b, spec)

	_, body, err := invoke(t, in, `{"read":["/var/task/data/hello.txt","/opt/one.txt","/opt/two.txt"],
		"write":["/tmp/probe","/var/task/new","/etc/new","/opt/new"],"import":true,
		"env":["AWS_ENDPOINT_URL","LAMBDA_TASK_ROOT","AWS_LAMBDA_RUNTIME_API"]}`)
	if err != nil {
		t.Fatal(err)
	}
	var got map[string]any
	if err := json.Unmarshal(body, &got); err != nil {
		t.Fatalf("%v: %s", err, body)
	}
	want := map[string]any{
		"/var/task/data/hello.txt": "from code", "/opt/one.txt": "1", "/opt/two.txt": "2",
		"/tmp/probe": "written", "/var/task/new": "error: OSError", "/etc/new": "error: OSError", "/opt/new": "error: OSError",
		"greet": "layer two", "greet_file": "/opt/python/greet.py",
	}
	for k, v := range want {
		if got[k] != v {
			t.Errorf("%s = %v, want %v", k, got[k], v)
		}
	}
	env, _ := got["env"].(map[string]any)
	if env["AWS_ENDPOINT_URL"] != agentapi.EndpointURL || env["LAMBDA_TASK_ROOT"] != "/var/task" ||
		!strings.HasPrefix(fmt.Sprint(env["AWS_LAMBDA_RUNTIME_API"]), "127.0.0.1:") {
		t.Errorf("env %v", env)
	}

	// Labels and limits as promised.
	ci, err := b.cli.ContainerInspect(context.Background(), in.(*instance).cid)
	if err != nil {
		t.Fatal(err)
	}
	if ci.Config.Labels[labelManaged] != "true" || ci.Config.Labels[labelFunction] != "fn" || ci.Config.Labels[labelPool] != "pool" {
		t.Errorf("labels %v", ci.Config.Labels)
	}
	if ci.HostConfig.Memory != 256<<20 || ci.HostConfig.MemorySwap != 256<<20 || !ci.HostConfig.ReadonlyRootfs {
		t.Errorf("memory %d swap %d readonly %v", ci.HostConfig.Memory, ci.HostConfig.MemorySwap, ci.HostConfig.ReadonlyRootfs)
	}
}

// TestEndpoint: functions reach lamb's API at AWS_ENDPOINT_URL, on the
// container's loopback, through the agent's tunnels, from the first
// container on (no address of the host needed), in a network of their own
// or a spare holder's; the host alias still resolves.
func TestEndpoint(t *testing.T) {
	b := newTestBackend(t)
	serveAPI(t, b, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintf(w, "lamb API: %s %s host=%s", r.Method, r.URL.Path, r.Host)
	}))
	_, images, _ := setup(t)
	alias := b.hostAlias()
	code := backendtest.ZipArtifact(t, map[string]string{"app.py": probeApp})
	// In order: every launch starts a spare network holder for the next.
	tests := []struct {
		name    string
		prepull bool   // wait for a spare network holder first
		network string // "own", "spare" or "" (either)
		env     map[string]string
		want    string
	}{
		{"first container, own network", false, "own", nil, "lamb API: GET /2015-03-31/functions/ host=127.0.0.1:3001"},
		{"the function's own endpoint wins", false, "", map[string]string{"AWS_ENDPOINT_URL": "http://127.0.0.1:1"}, "error: "},
		{"in a spare holder's network", true, "spare", nil, "lamb API: GET /2015-03-31/functions/ host=127.0.0.1:3001"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if tt.prepull {
				if err := b.Prepull(context.Background(), images["python"], nil); err != nil {
					t.Fatal(err)
				}
			}
			spec := testSpec(t, "python3.12", "app.handler", code)
			for k, v := range tt.env {
				spec.Env[k] = v
			}
			in := launch(t, b, spec)
			network := map[bool]string{false: "own", true: "spare"}[in.(*instance).holder != ""]
			if tt.network != "" && network != tt.network {
				t.Errorf("network: %s, want %s", network, tt.network)
			}
			for call := range 2 { // the second call may reuse the first's tunnel
				_, body, err := invoke(t, in, `{"fetch":"/2015-03-31/functions/","resolve":["`+alias+`"]}`)
				if err != nil {
					t.Fatal(err)
				}
				var got map[string]any
				if err := json.Unmarshal(body, &got); err != nil {
					t.Fatalf("%v: %s", err, body)
				}
				if f := fmt.Sprint(got["fetched"]); !strings.HasPrefix(f, tt.want) {
					t.Errorf("call %d: fetched %q, want %q", call, f, tt.want)
				}
				if ip := fmt.Sprint(got[alias]); net.ParseIP(ip) == nil {
					t.Errorf("%s does not resolve: %s", alias, ip)
				}
			}
		})
	}
}

func TestOutOfMemory(t *testing.T) {
	b := newTestBackend(t)
	code := backendtest.ZipArtifact(t, map[string]string{"app.py": probeApp})
	spec := testSpec(t, "python3.12", "app.handler", code)
	spec.MemoryMB = 128
	in := launch(t, b, spec)
	_, _, err := invoke(t, in, `{"alloc": 512}`)
	var xe *backend.ExitError
	if !errors.As(err, &xe) || !xe.OOM {
		t.Fatalf("err = %v, want an out-of-memory *ExitError", err)
	}
	waitDone(t, in)
}

func TestMaxMemoryReported(t *testing.T) {
	b := newTestBackend(t)
	code := backendtest.ZipArtifact(t, map[string]string{"app.py": probeApp})
	in := launch(t, b, testSpec(t, "python3.12", "app.handler", code))
	resp, _, err := invoke(t, in, `{"alloc": 64}`)
	if err != nil {
		t.Fatal(err)
	}
	if mb := resp.MaxMemoryUsedMB(); mb < 64 || mb > 256 {
		t.Errorf("MaxMemoryUsedMB = %d, want between 64 and 256", mb)
	}
}

// TestKilledBehindOurBack: a container killed by someone else ends the
// instance, and later invocations are not delivered (so the engine retries).
func TestKilledBehindOurBack(t *testing.T) {
	b := newTestBackend(t)
	in := launch(t, b, testSpec(t, "provided.al2023", "bootstrap", goEcho(t)))
	if err := b.cli.ContainerKill(context.Background(), in.(*instance).cid, "KILL"); err != nil {
		t.Fatal(err)
	}
	waitDone(t, in)
	_, _, err := invoke(t, in, `{}`)
	if !errors.Is(err, backend.ErrNotDelivered) {
		t.Fatalf("invoke after kill: %v, want ErrNotDelivered", err)
	}
	// run removed the dead container.
	if _, err := b.cli.ContainerInspect(context.Background(), in.(*instance).cid); err == nil {
		t.Error("killed container still exists")
	}
}

func TestKilledMidInvocation(t *testing.T) {
	b := newTestBackend(t)
	in := launch(t, b, testSpec(t, "provided.al2023", "bootstrap", goEcho(t)))
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	errc := make(chan error, 1)
	go func() {
		_, err := in.Invoke(ctx, &backend.Invocation{RequestID: "blocked", Payload: []byte(`{"block":true}`), Deadline: time.Now().Add(time.Minute)})
		errc <- err
	}()
	// The call is delivered once the agent's runtime took it; kill then.
	if err := b.cli.ContainerKill(ctx, in.(*instance).cid, "KILL"); err != nil {
		t.Fatal(err)
	}
	err := <-errc
	var xe *backend.ExitError
	if !errors.As(err, &xe) && !errors.Is(err, backend.ErrNotDelivered) {
		t.Fatalf("err = %v, want *ExitError or ErrNotDelivered", err)
	}
	waitDone(t, in)
}

var goEchoZip backend.Artifact

func goEcho(t *testing.T) backend.Artifact {
	if goEchoZip.Open == nil {
		goEchoZip = backendtest.BuildGoEcho(t)
	}
	return goEchoZip
}

// TestStream: chunks arrive while the function still runs. The function
// waits on a fifo made inside the container.
func TestStream(t *testing.T) {
	b := newTestBackend(t)
	cases := []struct {
		name, runtime, handler string
		code                   backend.Artifact
	}{
		{"go", "provided.al2023", "bootstrap", goEcho(t)},
		{"node", "nodejs22.x", "index.handler", backendtest.ZipArtifact(t, map[string]string{"index.mjs": nodeStreamApp})},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			in := launch(t, b, testSpec(t, tc.runtime, tc.handler, tc.code))
			cid := in.(*instance).cid
			dockerExec(t, b, cid, "mkfifo", "/tmp/go")
			ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
			defer cancel()
			resp, err := in.Invoke(ctx, &backend.Invocation{RequestID: "s", Payload: []byte(`{"fifo":"/tmp/go"}`),
				Deadline: time.Now().Add(time.Minute), StreamResponse: true})
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			if !resp.Streaming {
				t.Fatal("not streaming")
			}
			first := make([]byte, 5)
			if _, err := io.ReadFull(resp.Body, first); err != nil || string(first) != "first" {
				t.Fatalf("first chunk %q: %v", first, err)
			}
			dockerExec(t, b, cid, "sh", "-c", "printf go > /tmp/go")
			rest, err := io.ReadAll(resp.Body)
			if err != nil || string(rest) != "second:go" {
				t.Fatalf("rest %q: %v (trailer %+v)", rest, err, resp.Trailer())
			}
			if fe := resp.Trailer(); fe != nil {
				t.Errorf("trailer %+v", fe)
			}
		})
	}
}

const nodeStreamApp = `import { open } from "node:fs/promises";
export const handler = awslambda.streamifyResponse(async (event, responseStream) => {
  responseStream.setContentType("text/plain");
  responseStream.write("first");
  const fh = await open(event.fifo, "r");
  const data = await fh.readFile("utf8");
  await fh.close();
  responseStream.write("second:" + data);
  responseStream.end();
});
`

func dockerExec(t *testing.T, b *Backend, cid string, cmd ...string) {
	t.Helper()
	ctx := context.Background()
	ex, err := b.cli.ContainerExecCreate(ctx, cid, container.ExecOptions{Cmd: cmd, AttachStdout: true, AttachStderr: true})
	if err != nil {
		t.Fatal(err)
	}
	// Attached to its output, the stream ends only when the command did.
	att, err := b.cli.ContainerExecAttach(ctx, ex.ID, container.ExecAttachOptions{})
	if err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	_, _ = io.Copy(&out, att.Reader)

	att.Close()
	ins, err := b.cli.ContainerExecInspect(ctx, ex.ID)
	if err != nil || ins.Running || ins.ExitCode != 0 {
		t.Fatalf("exec %v: exit %d, %v: %s", cmd, ins.ExitCode, err, out.Bytes())
	}
}

// TestReapAndClose: Reap removes another server's containers, Close removes
// all of ours.
func TestReapAndClose(t *testing.T) {
	// old dies without cleaning up; b is the same server started again, and
	// other is another server that is alive.
	old := newTestBackend(t)
	orphan := launch(t, old, testSpec(t, "provided.al2023", "bootstrap", goEcho(t)))
	other := newTestBackend(t)
	alive := launch(t, other, testSpec(t, "provided.al2023", "bootstrap", goEcho(t)))
	b := newTestBackendAs(t, old.cfg.ServerID)
	stale := map[string]string{"agent": "lamb-agent-stale" + randomID(), "dlv": "lamb-dlv-stale" + randomID()}
	for kind, name := range stale {
		if _, err := b.cli.VolumeCreate(context.Background(), volume.CreateOptions{Name: name,
			Labels: map[string]string{labelManaged: "true", labelVolume: kind}}); err != nil {
			t.Fatal(err)
		}
	}
	if err := b.Reap(context.Background()); err != nil {
		t.Fatal(err)
	}
	for kind, name := range stale {
		if _, err := b.cli.VolumeInspect(context.Background(), name); err == nil {
			t.Errorf("Reap kept an unused %s volume of another build", kind)
		}
	}
	if _, err := b.cli.VolumeInspect(context.Background(), b.agentName); err != nil {
		t.Errorf("Reap removed the current agent volume: %v", err)
	}
	waitDone(t, orphan)
	if countContainers(t, b, old.cfg.ServerID) != 0 {
		t.Error("Reap left the dead predecessor's container")
	}
	select {
	case <-alive.Done():
		t.Fatal("Reap removed another live server's instance")
	default:
	}
	mine := launch(t, b, testSpec(t, "provided.al2023", "bootstrap", goEcho(t)))
	if _, _, err := invoke(t, mine, `{"ok":1}`); err != nil {
		t.Fatal(err)
	}
	launch(t, b, testSpec(t, "python3.12", "app.handler", backendtest.ZipArtifact(t, map[string]string{"app.py": probeApp})))
	if n := countInstances(t, b, b.cfg.ServerID); n != 2 {
		t.Fatalf("%d instance containers before Close, want 2", n)
	}
	if err := b.Close(context.Background()); err != nil {
		t.Fatal(err)
	}
	waitDone(t, mine)
	if n := countContainers(t, old, b.cfg.ServerID); n != 0 {
		t.Errorf("%d containers after Close", n)
	}
}

// countContainers counts server's containers: instances and network holders.
func countContainers(t *testing.T, b *Backend, server string) int {
	t.Helper()
	return len(listContainers(t, b, filters.Arg("label", labelServer+"="+server)))
}

// countInstances counts server's instance containers.
func countInstances(t *testing.T, b *Backend, server string) int {
	t.Helper()
	return len(listContainers(t, b, filters.Arg("label", labelServer+"="+server), filters.Arg("label", labelInstance)))
}

func listContainers(t *testing.T, b *Backend, f ...filters.KeyValuePair) []container.Summary {
	t.Helper()
	list, err := b.cli.ContainerList(context.Background(), container.ListOptions{All: true, Filters: filters.NewArgs(f...)})
	if err != nil {
		t.Fatal(err)
	}
	return list
}

func TestPrepull(t *testing.T) {
	b := newTestBackend(t)
	_, images, _ := setup(t)
	called := false
	if err := b.Prepull(context.Background(), images["python"], func(backend.Progress) { called = true }); err != nil || called {
		t.Fatalf("present image: err %v, progress called %v", err, called)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := b.Prepull(ctx, "lamb-test-no-such-image:"+randomID(), nil); err == nil {
		t.Fatal("pulling a missing image succeeded")
	}
}

func TestImageFunction(t *testing.T) {
	b := newTestBackend(t)
	_, images, _ := setup(t)
	// An Image function runs the image's own ENTRYPOINT+CMD; the python
	// stand-in's is /lambda-entrypoint.sh, so give it a CMD through a tag.
	spec := testSpec(t, "", "", backend.Artifact{})
	spec.PackageType, spec.Image = "Image", images["python"]
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	_, err := b.Launch(ctx, spec)
	// Without a CMD the entrypoint refuses to run: an exit, reported as such.
	var xe *backend.ExitError
	if !errors.As(err, &xe) || xe.Code != 142 || !bytes.Contains(xe.Log, []byte("handler name")) {
		t.Fatalf("err = %#v, want the entrypoint's exit 142", err)
	}
}
