package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	"github.com/aws/aws-sdk-go-v2/service/lambda/types"
	"github.com/docker/docker/api/types/container"
	"github.com/docker/docker/api/types/filters"
	"github.com/docker/docker/client"

	"github.com/lambhq/lamb/internal/testwait"
)

// containerEngine is one engine `lamb serve --backend docker` runs against.
type containerEngine struct {
	name      string // what lamb reports as its backend
	hostEnv   string // overrides defHost
	defHost   string
	imagesEnv string // FAMILY=IMAGE,... already built for this engine
	cli       string // DOCKER= for scripts/build-runtime-images.sh
}

var containerEngines = []containerEngine{
	{name: "docker", hostEnv: "LAMB_TEST_DOCKER_HOST", defHost: "unix:///var/run/docker.sock", imagesEnv: "LAMB_TEST_IMAGES", cli: "docker"},
	{name: "podman", hostEnv: "LAMB_TEST_PODMAN_HOST", defHost: "unix:///run/podman/podman.sock", imagesEnv: "LAMB_TEST_PODMAN_IMAGES", cli: "podman"},
}

// TestContainerBackends runs lamb on Docker and on Podman with the stand-in
// runtime images: every invoke check of the process backend, what only an
// isolated sandbox shows (boto3_docker.py), and the containers' lifecycle
// around lamb: killed behind its back, SIGTERM, kill -9 and restart.
func TestContainerBackends(t *testing.T) {
	for _, e := range containerEngines {
		t.Run(e.name, func(t *testing.T) { testContainerEngine(t, e) })
	}
}

func testContainerEngine(t *testing.T, e containerEngine) {
	host := os.Getenv(e.hostEnv)
	if host == "" {
		host = e.defHost
	}
	cli := engineClient(t, e, host)
	images := engineImages(t, e)
	env := []string{"LAMB_CONTAINER_HOST=" + host}
	args := []string{"--backend", "docker"}
	for _, fam := range []string{"python", "nodejs", "provided"} {
		args = append(args, "--runtime-image", fam+"="+images[fam])
	}
	// Every server of this test is named by its address (--ephemeral) or its
	// data dir; its containers carry that name in lamb.server.
	addr := freeAddr(t)
	ephemeralID := "ephemeral-" + addr
	removeAtEnd(t, cli, ephemeralID)
	s := startLambEnv(t, addr, "", env, args...)
	if got := healthBackend(t, s); got != e.name {
		t.Fatalf("lamb on %s reports backend %q, want %q", host, got, e.name)
	}

	t.Run("boto3", func(t *testing.T) {
		for _, suite := range []string{"InvokeOnContainers", "Container"} {
			runPythonEnv(t, s, "boto3_docker.py", []string{"LAMB_EXPECT_BACKEND=" + e.name}, suite)
		}
	})

	t.Run("containers killed behind lamb's back", func(t *testing.T) {
		c := s.client("us-east-1", "123456789012")
		createEcho(t, c, "victim")
		invokeEcho(t, c, "victim", `{"n":1}`)
		killed := serverContainers(t, cli, ephemeralID)
		if len(killed) == 0 {
			t.Fatal("no container of this server after an invocation")
		}
		for _, id := range killed {
			// An instance may have died with its network holder (killed
			// just before), and lamb may have removed it already: the kill
			// may fail, as long as the container is not running after it.
			if err := cli.ContainerKill(ctxT(t), id, "KILL"); err != nil {
				if ci, ierr := cli.ContainerInspect(ctxT(t), id); ierr == nil && ci.State != nil && ci.State.Running {
					t.Fatalf("kill %s: %v", id, err)
				}
			}
		}
		invokeEcho(t, c, "victim", `{"n":2}`)
		// lamb removes the dead containers itself.
		testwait.For(t, "killed containers removed", func() bool {
			left := serverContainers(t, cli, ephemeralID)
			for _, id := range killed {
				for _, l := range left {
					if l == id {
						return false
					}
				}
			}
			return true
		})
	})

	t.Run("kill -9 leaves nothing 10 s later, without a restart", func(t *testing.T) {
		c := s.client("us-east-1", "123456789012")
		createEcho(t, c, "orphan")
		invokeEcho(t, c, "orphan", `{}`)
		if len(serverContainers(t, cli, ephemeralID)) == 0 {
			t.Fatal("no container of this server after an invocation")
		}
		wd := watchdogPID(t, ephemeralID)
		deadline := time.Now().Add(10 * time.Second)
		s.kill9()
		for left := serverContainers(t, cli, ephemeralID); len(left) > 0 || processAlive(wd); left = serverContainers(t, cli, ephemeralID) {
			if time.Now().After(deadline) {
				t.Fatalf("10 s after kill -9 of lamb: containers %v left, watchdog %d alive %v", left, wd, processAlive(wd))
			}
			time.Sleep(100 * time.Millisecond)
		}
	})

	t.Run("restart at once after kill -9: the watchdog leaves the new server's containers alone", func(t *testing.T) {
		first := startLambEnv(t, addr, "", env, args...)
		c := first.client("us-east-1", "123456789012")
		createEcho(t, c, "again")
		invokeEcho(t, c, "again", `{}`)
		first.kill9()
		second := startLambEnv(t, addr, "", env, args...) // waits for the watchdog's reap
		c = second.client("us-east-1", "123456789012")
		createEcho(t, c, "again")
		invokeEcho(t, c, "again", `{"n":1}`)
		mine := serverContainers(t, cli, ephemeralID)
		time.Sleep(2 * time.Second) // a watchdog that reaped late would have struck by now
		if got := common(mine, serverContainers(t, cli, ephemeralID)); len(got) != len(mine) {
			t.Fatalf("the new server's containers %v, of which %v are left", mine, got)
		}
		invokeEcho(t, c, "again", `{"n":2}`)
	})

	t.Run("watchdog killed too: restart on the same address reaps, SIGTERM leaves none", func(t *testing.T) {
		s := startLambEnv(t, addr, "", env, args...)
		c := s.client("us-east-1", "123456789012")
		createEcho(t, c, "orphan2")
		invokeEcho(t, c, "orphan2", `{}`)
		_ = killPID(watchdogPID(t, ephemeralID))
		s.kill9()
		orphans := serverContainers(t, cli, ephemeralID)
		if len(orphans) == 0 {
			t.Fatal("no container outlived kill -9 of lamb and its watchdog: nothing to reap")
		}
		s2 := startLambEnv(t, addr, "", env, args...)
		if left := common(orphans, serverContainers(t, cli, ephemeralID)); len(left) != 0 {
			t.Fatalf("restarted lamb left its predecessor's containers: %v", left)
		}
		c = s2.client("us-east-1", "123456789012")
		createEcho(t, c, "term")
		invokeEcho(t, c, "term", `{}`)
		if len(serverContainers(t, cli, ephemeralID)) == 0 {
			t.Fatal("no container of this server after an invocation")
		}
		wd := watchdogPID(t, ephemeralID)
		s2.stop(t)
		if left := serverContainers(t, cli, ephemeralID); len(left) != 0 {
			t.Fatalf("containers left after SIGTERM: %v", left)
		}
		if processAlive(wd) {
			t.Fatalf("watchdog %d outlived its server's clean exit", wd)
		}
	})

	t.Run("kill -9 of lamb and its watchdog, then restart on the same data dir reaps", func(t *testing.T) {
		dataDir := t.TempDir()
		d := startLambEnv(t, freeAddr(t), dataDir, env, args...)
		id, err := os.ReadFile(filepath.Join(dataDir, "server-id"))
		if err != nil || len(id) == 0 {
			t.Fatalf("server id of %s: %q, %v", dataDir, id, err)
		}
		removeAtEnd(t, cli, string(id))
		c := d.client("us-east-1", "123456789012")
		createEcho(t, c, "durable")
		invokeEcho(t, c, "durable", `{}`)
		_ = killPID(watchdogPID(t, string(id)))
		d.kill9()
		orphans := serverContainers(t, cli, string(id))
		if len(orphans) == 0 {
			t.Fatal("no container outlived kill -9 of lamb: nothing to reap")
		}
		// Another address: the data dir alone names the server.
		d = startLambEnv(t, freeAddr(t), dataDir, env, args...)
		if left := common(orphans, serverContainers(t, cli, string(id))); len(left) != 0 {
			t.Fatalf("restarted lamb left its predecessor's containers: %v", left)
		}
		invokeEcho(t, d.client("us-east-1", "123456789012"), "durable", `{"again":true}`)
		d.stop(t)
		if left := serverContainers(t, cli, string(id)); len(left) != 0 {
			t.Fatalf("containers left after SIGTERM: %v", left)
		}
	})
}

// watchdogPID finds the watchdog process of the server with ID id.
func watchdogPID(t *testing.T, id string) int {
	t.Helper()
	var pid int
	testwait.For(t, "watchdog of "+id, func() bool {
		ents, _ := os.ReadDir("/proc")
		for _, e := range ents {
			n, err := strconv.Atoi(e.Name())
			if err != nil {
				continue
			}
			b, _ := os.ReadFile("/proc/" + e.Name() + "/cmdline")
			args := strings.Split(string(b), "\x00")
			for i := range args[:max(len(args)-1, 0)] {
				if args[i] == "--watchdog-for" && args[i+1] == id {
					pid = n
					return true
				}
			}
		}
		return false
	})
	return pid
}

// processAlive says whether pid is a process that has not exited (a zombie
// has).
func processAlive(pid int) bool {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return false
	}
	_, rest, _ := strings.Cut(string(b), ") ")
	return !strings.HasPrefix(rest, "Z")
}

// engineClient connects to the engine at host, skipping the test when it does
// not answer (failing under CI=true).
func engineClient(t *testing.T, e containerEngine, host string) *client.Client {
	t.Helper()
	cli, err := client.NewClientWithOpts(client.WithHost(host), client.WithAPIVersionNegotiation())
	if err == nil {
		ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
		_, err = cli.Ping(ctx)
		cancel()
	}
	if err != nil {
		t.Logf("%s at %s: %v", e.name, host, err)
	}
	need(t, fmt.Sprintf("a %s engine at %s (another address: %s)", e.name, host, e.hostEnv), err == nil)
	t.Cleanup(func() { cli.Close() })
	return cli
}

// engineImages reads the stand-in runtime images from e.imagesEnv, or builds
// them with scripts/build-runtime-images.sh (instant when already built).
func engineImages(t *testing.T, e containerEngine) map[string]string {
	t.Helper()
	spec := os.Getenv(e.imagesEnv)
	if spec == "" {
		t.Logf("%s is not set: building the stand-in images for %s", e.imagesEnv, e.name)
		cmd := exec.Command(filepath.Join("..", "..", "scripts", "build-runtime-images.sh"))
		cmd.Env = append(os.Environ(), "DOCKER="+e.cli)
		var stderr strings.Builder
		cmd.Stderr = &stderr
		out, err := cmd.Output()
		if err != nil {
			t.Fatalf("scripts/build-runtime-images.sh (DOCKER=%s): %v\n%s", e.cli, err, stderr.String())
		}
		spec = strings.ReplaceAll(strings.TrimSpace(string(out)), "\n", ",")
	}
	images := map[string]string{}
	for _, kv := range strings.Split(spec, ",") {
		if k, v, ok := strings.Cut(strings.TrimSpace(kv), "="); ok {
			images[k] = v
		}
	}
	for _, fam := range []string{"python", "nodejs", "provided"} {
		if images[fam] == "" {
			t.Fatalf("no %s image in %q", fam, spec)
		}
	}
	return images
}

func healthBackend(t *testing.T, s *server) string {
	t.Helper()
	resp, err := http.Get(s.URL + "/_lamb/health")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var h struct{ Backend string }
	if err := json.NewDecoder(resp.Body).Decode(&h); err != nil {
		t.Fatal(err)
	}
	return h.Backend
}

// serverContainers lists the IDs of lamb's containers, running or not, that
// carry server id in lamb.server.
func serverContainers(t *testing.T, cli *client.Client, id string) []string {
	t.Helper()
	list, err := cli.ContainerList(ctxT(t), container.ListOptions{All: true, Filters: filters.NewArgs(
		filters.Arg("label", "lamb.managed=true"), filters.Arg("label", "lamb.server="+id))})
	if err != nil {
		t.Fatalf("list containers: %v", err)
	}
	ids := make([]string, 0, len(list))
	for _, c := range list {
		ids = append(ids, c.ID)
	}
	return ids
}

// common returns the IDs in both a and b (the restarted server may have
// started containers of its own, such as a spare network holder).
func common(a, b []string) []string {
	var out []string
	for _, x := range a {
		for _, y := range b {
			if x == y {
				out = append(out, x)
			}
		}
	}
	return out
}

// removeAtEnd removes what a failed test may have left of server id's
// containers, once the test and its servers are done.
func removeAtEnd(t *testing.T, cli *client.Client, id string) {
	t.Helper()
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		list, err := cli.ContainerList(ctx, container.ListOptions{All: true, Filters: filters.NewArgs(
			filters.Arg("label", "lamb.managed=true"), filters.Arg("label", "lamb.server="+id))})
		if err != nil {
			t.Logf("cleanup: list containers: %v", err)
			return
		}
		for _, c := range list {
			t.Logf("cleanup: removing container %.12s left by server %s", c.ID, id)
			_ = cli.ContainerRemove(ctx, c.ID, container.RemoveOptions{Force: true})
		}
	})
}

func createEcho(t *testing.T, c *lambda.Client, name string) {
	t.Helper()
	createActive(ctxT(t), t, c, &lambda.CreateFunctionInput{
		FunctionName: aws.String(name), Runtime: types.RuntimePython312, Role: aws.String(role),
		Handler: aws.String("handler.handler"),
		Code:    &types.FunctionCode{ZipFile: zipOf(t, map[string]string{"handler.py": "def handler(e, c):\n    return e\n"})},
	}, 30*time.Second)
}

func invokeEcho(t *testing.T, c *lambda.Client, name, payload string) {
	t.Helper()
	out, err := c.Invoke(ctxT(t), &lambda.InvokeInput{FunctionName: aws.String(name), Payload: []byte(payload)})
	if err != nil {
		t.Fatalf("invoke %s: %v", name, err)
	}
	var got, want any
	_ = json.Unmarshal(out.Payload, &got)
	_ = json.Unmarshal([]byte(payload), &want)
	if out.FunctionError != nil || !reflect.DeepEqual(got, want) {
		t.Fatalf("invoke %s: FunctionError %q, payload %s, want %s", name, aws.ToString(out.FunctionError), out.Payload, payload)
	}
}

// runPythonEnv runs a unittest script from testdata against the server with
// extra environment and arguments (e.g. the test classes to run).
func runPythonEnv(t *testing.T, s *server, script string, env []string, args ...string) {
	t.Helper()
	py := pythonWithBoto3(t)
	cmd := exec.Command(py, append([]string{filepath.Join("testdata", script)}, args...)...)
	cmd.Env = append(append(os.Environ(), "LAMB_ENDPOINT="+s.URL, "AWS_EC2_METADATA_DISABLED=true"), env...)
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("%s %v failed: %v\n%s", script, args, err, out)
	}
	t.Logf("%s %v:\n%s", script, args, out)
}
