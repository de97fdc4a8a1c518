package e2e

import (
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	"github.com/aws/aws-sdk-go-v2/service/lambda/types"
	corev1 "k8s.io/api/core/v1"

	"github.com/lambhq/lamb/internal/testwait"
)

// sleeper answers its event after sleeping event["sleep"] seconds: concurrent
// calls make one warm Pod each.
const sleeper = "import time\ndef handler(e, c):\n    time.sleep(e.get(\"sleep\", 0))\n    return e\n"

// warmPods creates fn on s and invokes it n times at once, leaving n warm
// Pods; it returns the server's ID as its Pods carry it.
func (k *kubeEnv) warmPods(t *testing.T, s *server, fn string, n int) string {
	t.Helper()
	c := s.client("us-east-1", "123456789012")
	createActive(ctxT(t), t, c, &lambda.CreateFunctionInput{
		FunctionName: aws.String(fn), Runtime: types.RuntimePython312, Role: aws.String(role),
		Handler: aws.String("handler.handler"), Code: &types.FunctionCode{ZipFile: zipOf(t, map[string]string{"handler.py": sleeper})},
	}, 30*time.Second)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() { invokeEcho(t, c, fn, fmt.Sprintf(`{"sleep":1,"i":%d}`, i)) })
	}
	wg.Wait()
	pods := k.lambPods(t)
	if len(pods) < n {
		t.Fatalf("%d lamb pods after %d concurrent calls, want %d", len(pods), n, n)
	}
	return pods[0].Annotations["lamb.dev/server"]
}

// serverPods lists the names of lamb's Pods of server id (label value, as
// the backend spells it) that are not being deleted, and all of them.
func (k *kubeEnv) serverPods(t *testing.T, id string) (live, all []string) {
	t.Helper()
	for _, p := range k.lambPods(t) {
		if p.Annotations["lamb.dev/server"] != id {
			continue
		}
		all = append(all, p.Name)
		if p.DeletionTimestamp == nil {
			live = append(live, p.Name)
		}
	}
	return live, all
}

// TestKubernetesKill9 is issue 11's "kill -9 of lamb with warm instances
// leaves nothing running 10 s later, with no restart" on Kubernetes, with
// what surrounds it: a restart right after the kill keeps its own Pods; a
// lamb killed with its watchdog leaves Pods that end by their agents' lease;
// SIGTERM leaves none.
func TestKubernetesKill9(t *testing.T) {
	k := needKube(t)
	port := strings.TrimPrefix(freeAddr(t), "127.0.0.1:")

	t.Run("kill -9 leaves no Pod and no watchdog 10 s later, without a restart", func(t *testing.T) {
		s := k.startAt(t, port, "")
		id := k.warmPods(t, s, "orphan", 2)
		wd := watchdogPID(t, id)
		s.kill9()
		start := time.Now()
		for {
			_, all := k.serverPods(t, id)
			if len(all) == 0 && !processAlive(wd) {
				break
			}
			if time.Since(start) > 10*time.Second {
				t.Fatalf("10 s after kill -9 of lamb: pods %v left, watchdog %d alive %v", all, wd, processAlive(wd))
			}
			time.Sleep(100 * time.Millisecond) // polling the API server with a deadline
		}
		t.Logf("no pod and no watchdog %s after kill -9", time.Since(start).Round(time.Millisecond))
	})

	t.Run("restart at once after kill -9 keeps the new server's Pods", func(t *testing.T) {
		first := k.startAt(t, port, "")
		k.warmPods(t, first, "again", 1)
		first.kill9()
		second := k.startAt(t, port, "") // waits for the watchdog's reap
		id := k.warmPods(t, second, "again", 2)
		mine, _ := k.serverPods(t, id)
		// A watchdog that reaped late would have struck by now, and the
		// agents' lease (5 s) would have lapsed if the new server did not
		// hold it.
		time.Sleep(8 * time.Second)
		live, _ := k.serverPods(t, id)
		if len(common(mine, live)) != len(mine) {
			t.Fatalf("the new server's pods %v, of which %v are left", mine, live)
		}
		for _, p := range k.lambPods(t) {
			if p.DeletionTimestamp == nil && p.Status.Phase != corev1.PodRunning {
				t.Fatalf("pod %s of the new server is %s", p.Name, p.Status.Phase)
			}
		}
		invokeEcho(t, second.client("us-east-1", "123456789012"), "again", `{"n":2}`)
		second.stop(t)
		if _, all := k.serverPods(t, id); len(all) != 0 {
			t.Fatalf("pods left after SIGTERM: %v", all)
		}
	})

	t.Run("watchdog killed too: the agents' lease ends the Pods; a restart removes them, SIGTERM leaves none", func(t *testing.T) {
		s := k.startAt(t, port, "")
		id := k.warmPods(t, s, "leased", 2)
		_ = killPID(watchdogPID(t, id))
		s.kill9()
		start := time.Now()
		var running []string
		// The lease is 5 s; the kubelet reports the container's end a
		// moment later.
		testwait.Within(t, 12*time.Second, "pods to end by their agents' lease", func() bool {
			running = running[:0]
			for _, p := range k.lambPods(t) {
				if p.Annotations["lamb.dev/server"] == id && p.Status.Phase != corev1.PodSucceeded && p.Status.Phase != corev1.PodFailed {
					running = append(running, p.Name+"="+string(p.Status.Phase))
				}
			}
			return len(running) == 0
		})
		t.Logf("every pod ended %s after kill -9 of lamb and its watchdog", time.Since(start).Round(time.Millisecond))
		if _, all := k.serverPods(t, id); len(all) == 0 {
			t.Fatal("no ended pod outlived lamb and its watchdog: nothing for the restart to remove")
		}
		s2 := k.startAt(t, port, "")
		testwait.Within(t, 15*time.Second, "the restarted server to remove its predecessor's pods", func() bool {
			_, all := k.serverPods(t, id)
			return len(all) == 0
		})
		k.warmPods(t, s2, "term", 1)
		wd := watchdogPID(t, id)
		s2.stop(t)
		if _, all := k.serverPods(t, id); len(all) != 0 {
			t.Fatalf("pods left after SIGTERM: %v", all)
		}
		if processAlive(wd) {
			t.Fatalf("watchdog %d outlived its server's clean exit", wd)
		}
	})
}

// ledgerHandler records each event's id as a tag on the function named by
// LEDGER, through lamb's API at AWS_ENDPOINT_URL (the agent's tunnel):
// tags are in lamb's store, so runs before and after a kill are all seen.
const ledgerHandler = `import json, os, time, urllib.parse, urllib.request
def handler(event, context):
    time.sleep(0.3)
    arn = context.invoked_function_arn.rsplit(":", 1)[0] + ":" + os.environ["LEDGER"]
    acct, region = arn.split(":")[4], arn.split(":")[3]
    req = urllib.request.Request(
        os.environ["AWS_ENDPOINT_URL"] + "/2017-03-31/tags/" + urllib.parse.quote(arn, safe=""),
        data=json.dumps({"Tags": {event["id"]: "ran"}}).encode(), method="POST",
        headers={"Content-Type": "application/json",
                 "Authorization": "AWS4-HMAC-SHA256 Credential=%s/20260101/%s/lambda/aws4_request, SignedHeaders=host, Signature=0" % (acct, region)})
    with urllib.request.urlopen(req, timeout=10) as r:
        r.read()
    return event
`

// TestKubernetesEventsSurviveKill9: 20 Event invokes to a Kubernetes function
// acknowledged right before kill -9 of lamb all run after a restart on the
// same data dir.
func TestKubernetesEventsSurviveKill9(t *testing.T) {
	k := needKube(t)
	dataDir := t.TempDir()
	s := k.startAt(t, strings.TrimPrefix(freeAddr(t), "127.0.0.1:"), dataDir)
	ctx := ctxT(t)
	c := s.client("us-east-1", "123456789012")
	createActive(ctx, t, c, &lambda.CreateFunctionInput{
		FunctionName: aws.String("ledger"), Runtime: types.RuntimePython312, Role: aws.String(role),
		Handler: aws.String("handler.handler"), Code: &types.FunctionCode{ZipFile: zipOf(t, map[string]string{"handler.py": sleeper})},
	}, 30*time.Second)
	createActive(ctx, t, c, &lambda.CreateFunctionInput{
		FunctionName: aws.String("recorder"), Runtime: types.RuntimePython312, Role: aws.String(role),
		Handler: aws.String("handler.handler"), Code: &types.FunctionCode{ZipFile: zipOf(t, map[string]string{"handler.py": ledgerHandler})},
		Timeout: aws.Int32(30), Environment: &types.Environment{Variables: map[string]string{"LEDGER": "ledger"}},
	}, 30*time.Second)
	// One at a time, and slow: most events are still queued at the kill.
	if _, err := c.PutFunctionConcurrency(ctx, &lambda.PutFunctionConcurrencyInput{FunctionName: aws.String("recorder"), ReservedConcurrentExecutions: aws.Int32(1)}); err != nil {
		t.Fatal(err)
	}
	ran := func() map[string]bool {
		out, err := c.ListTags(ctx, &lambda.ListTagsInput{Resource: aws.String("arn:aws:lambda:us-east-1:123456789012:function:ledger")})
		if err != nil {
			t.Fatalf("list tags: %v", err)
		}
		got := map[string]bool{}
		for k := range out.Tags {
			got[k] = true
		}
		return got
	}
	const n = 20
	for i := range n {
		res, err := c.Invoke(ctx, &lambda.InvokeInput{FunctionName: aws.String("recorder"), InvocationType: types.InvocationTypeEvent,
			Payload: []byte(`{"id":"event-` + strconv.Itoa(i) + `"}`)})
		if err != nil {
			t.Fatal(err)
		}
		if res.StatusCode != http.StatusAccepted {
			t.Fatalf("event %d answered %d", i, res.StatusCode)
		}
	}
	s.kill9()

	s = k.startAt(t, strings.TrimPrefix(freeAddr(t), "127.0.0.1:"), dataDir)
	c = s.client("us-east-1", "123456789012")
	t.Logf("%d of %d events had run before the restart served", len(ran()), n)
	testwait.Within(t, 2*time.Minute, "all events to run after the restart", func() bool { return len(ran()) == n })
	got := ran()
	for i := range n {
		if !got["event-"+strconv.Itoa(i)] {
			t.Errorf("event-%d never ran", i)
		}
	}
}
