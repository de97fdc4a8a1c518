package kubernetes

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/lambhq/lamb/engine"
	"github.com/lambhq/lamb/engine/backend"
	"github.com/lambhq/lamb/engine/backend/backendtest"
)

// The engine's semantics on real Pods: one call per Pod, scale-out, Pods
// deleted behind lamb's back, Close leaving nothing, and the figures.
func TestEngineOnPods(t *testing.T) {
	b := newTestBackend(t)
	e := engine.New(b, engine.WithMaxInstances(5), engine.WithIdleTTL(time.Minute), engine.WithServerID(b.cfg.ServerID))
	code := backendtest.ZipArtifact(t, map[string]string{"app.py": `
import socket, time
def handler(event, context):
    time.sleep(event.get("sleep", 0))
    return {"pod": socket.gethostname()}
`})
	fn := &engine.Function{Region: "us-east-1", Name: "k8s-fn", Version: "$LATEST",
		ARN: "arn:aws:lambda:us-east-1:000000000000:function:k8s-fn", Runtime: "python3.12", Handler: "app.handler",
		MemoryMB: 128, Timeout: 30 * time.Second, Code: code, CodeSHA256: code.SHA256}
	var seq atomic.Int64
	invoke := func(ctx context.Context, payload string) (string, *engine.Result, error) {
		id := fmt.Sprintf("00000000-0000-4000-8000-%012d", seq.Add(1))
		res, err := e.Invoke(ctx, fn, &engine.Request{RequestID: id, Payload: []byte(payload)})
		if err != nil {
			return "", nil, err
		}
		if res.FunctionError != "" {
			return "", res, fmt.Errorf("function error: %s", res.Payload)
		}
		var out struct{ Pod string }
		if err := json.Unmarshal(res.Payload, &out); err != nil {
			return "", res, fmt.Errorf("payload %q: %w", res.Payload, err)
		}
		return out.Pod, res, nil
	}
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()

	// 3 concurrent calls: 3 Pods, one call each.
	var wg sync.WaitGroup
	pods := make([]string, 3)
	errs := make([]error, 3)
	inits := make([]time.Duration, 3)
	for i := range 3 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var res *engine.Result
			pods[i], res, errs[i] = invoke(ctx, `{"sleep": 2}`)
			if res != nil {
				inits[i] = res.InitDuration
			}
		}()
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	distinct := slices.Compact(slices.Sorted(slices.Values(pods)))
	if len(distinct) != 3 {
		t.Fatalf("3 concurrent calls ran in pods %v: want 3 distinct", pods)
	}
	listed := ownPods(t, b)
	sort.Strings(listed)
	if !slices.Equal(listed, distinct) {
		t.Fatalf("pods on the cluster %v, calls ran in %v", listed, distinct)
	}
	t.Logf("cold start per Pod (create → runtime ready, concurrent x3): %v", inits)

	// Warm calls reuse the Pods.
	var warm []time.Duration
	for range 30 {
		start := time.Now()
		pod, _, err := invoke(ctx, `{}`)
		if err != nil {
			t.Fatal(err)
		}
		warm = append(warm, time.Since(start))
		if !slices.Contains(distinct, pod) {
			t.Fatalf("warm call ran in a new pod %s", pod)
		}
	}
	slices.Sort(warm)
	t.Logf("warm invoke through the engine: p50 %v, p90 %v (n=%d)", warm[len(warm)/2], warm[len(warm)*9/10], len(warm))

	// Pods deleted behind lamb's back: once they are gone, the next call
	// still succeeds, on a fresh Pod.
	for _, p := range listed {
		if err := b.pods.Delete(ctx, p, metav1.DeleteOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	waitNoPods(t, b, 30*time.Second)
	pod, res, err := invoke(ctx, `{}`)
	if err != nil {
		t.Fatalf("call after the pods were deleted: %v", err)
	}
	if slices.Contains(distinct, pod) {
		t.Fatalf("call ran in deleted pod %s", pod)
	}
	t.Logf("cold start of a single Pod: %v", res.InitDuration)

	// Close leaves no Pod.
	if err := e.Close(ctx); err != nil {
		t.Fatal(err)
	}
	if err := b.Close(ctx); err != nil {
		t.Fatal(err)
	}
	waitNoPods(t, b, 30*time.Second)
}

// returnsOneSpec is the spec of a new instance (ID prefix and a random part)
// of a python3.12 function that returns 1.
func returnsOneSpec(t *testing.T, prefix string) *backend.Spec {
	code := backendtest.ZipArtifact(t, map[string]string{"app.py": "def handler(e, c):\n    return 1\n"})
	return &backend.Spec{InstanceID: prefix + randomID(), PoolKey: "p", FunctionName: "fn", Version: "$LATEST",
		FunctionARN: "arn:aws:lambda:us-east-1:000000000000:function:fn", PackageType: "Zip", Runtime: "python3.12",
		Handler: "app.handler", MemoryMB: 128, Timeout: 10 * time.Second, Code: code}
}

// Reap, as a restarted server runs it, removes the Pods its dead predecessor
// (same server ID) left, and that instance sees its Pod go; Pods of another
// server, which may be alive, stay.
func TestReapDeadPredecessor(t *testing.T) {
	dead := newTestBackend(t)
	other := newTestBackend(t)
	spec := returnsOneSpec(t, "reap-")
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	in, err := dead.Launch(ctx, spec)
	if err != nil {
		t.Fatal(err)
	}
	spec2 := *spec
	spec2.InstanceID = "alive-" + randomID()
	alive, err := other.Launch(ctx, &spec2)
	if err != nil {
		t.Fatal(err)
	}
	restarted := newTestBackendWith(t, func(c *Config) { c.ServerID = dead.cfg.ServerID })
	if err := restarted.Reap(ctx); err != nil {
		t.Fatal(err)
	}
	select {
	case <-in.Done():
	case <-ctx.Done():
		t.Fatal("instance of the reaped pod never ended")
	}
	waitNoPods(t, dead, 30*time.Second)
	select {
	case <-alive.Done():
		t.Fatal("Reap removed another live server's Pod")
	default:
	}
}

// The init container fails clearly when the artifact endpoint refuses it.
func TestLaunchWithRefusedToken(t *testing.T) {
	b := newTestBackend(t)
	b.token = "not-the-token-the-server-knows"
	spec := returnsOneSpec(t, "tok-")
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	_, err := b.Launch(ctx, spec)
	if err == nil {
		t.Fatal("launch succeeded with a token the artifact endpoint does not know")
	}
	if !strings.Contains(err.Error(), "init container") || !strings.Contains(err.Error(), "refused the token") {
		t.Fatalf("launch error does not name the init container: %v", err)
	}
	t.Logf("launch error: %v", err)
	waitNoPods(t, b, 30*time.Second)
}

// A runtime image the node does not have fails the launch at once, with the
// kubelet's reason, and leaves no Pod.
func TestLaunchMissingImage(t *testing.T) {
	b := newTestBackendWith(t, func(c *Config) {
		c.RuntimeImages["python"] = "lamb-runtime-python:does-not-exist"
		c.PullPolicy = "Never"
	})
	spec := returnsOneSpec(t, "img-")
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	_, err := b.Launch(ctx, spec)
	if err == nil || !strings.Contains(err.Error(), "ErrImageNeverPull") {
		t.Fatalf("launch: %v, want ErrImageNeverPull", err)
	}
	waitNoPods(t, b, 30*time.Second)
}

// Idle Pods stop after the engine's TTL.
func TestIdleTTLStopsPods(t *testing.T) {
	b := newTestBackend(t)
	e := engine.New(b, engine.WithIdleTTL(time.Second), engine.WithServerID(b.cfg.ServerID))
	ctx, cancel := context.WithCancel(context.Background())
	cleanupDone := make(chan struct{})
	go func() { defer close(cleanupDone); _ = e.RunCleanup(ctx, time.Second) }()
	defer func() { cancel(); <-cleanupDone; _ = e.Close(context.Background()) }()
	code := backendtest.ZipArtifact(t, map[string]string{"app.py": "def handler(e, c):\n    return 1\n"})
	fn := &engine.Function{Region: "us-east-1", Name: "idle-fn", Version: "$LATEST",
		ARN: "arn:aws:lambda:us-east-1:000000000000:function:idle-fn", Runtime: "python3.12", Handler: "app.handler",
		MemoryMB: 128, Timeout: 10 * time.Second, Code: code, CodeSHA256: code.SHA256}
	ictx, icancel := context.WithTimeout(ctx, 2*time.Minute)
	defer icancel()
	if _, err := e.Invoke(ictx, fn, &engine.Request{RequestID: "00000000-0000-4000-8000-000000000001", Payload: []byte(`{}`)}); err != nil {
		t.Fatal(err)
	}
	if n := len(ownPods(t, b)); n != 1 {
		t.Fatalf("%d pods after one call, want 1", n)
	}
	waitNoPods(t, b, 30*time.Second)
}
