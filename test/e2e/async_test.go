package e2e

import (
	"github.com/lambhq/lamb/internal/testwait"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	"github.com/aws/aws-sdk-go-v2/service/lambda/types"
)

// Event invocations acknowledged with 202 right before kill -9 of lamb all
// run after a restart on the same data dir: at least once (an event whose
// run the kill interrupted may run twice; duplicates are counted, not
// failed).
func TestAsyncEventsSurviveKill9(t *testing.T) {
	dataDir := t.TempDir()
	out := filepath.Join(t.TempDir(), "ran.log")
	s := startLamb(t, dataDir)
	ctx := ctxT(t)
	c := s.client("us-east-1", "123456789012")
	// Slow, one at a time: most events are still queued at the kill.
	code := zipOf(t, map[string]string{"handler.py": `import os, time

def handler(event, context):
    time.sleep(0.5)
    with open(os.environ["OUT"], "a") as f:
        f.write(event["id"] + "\n")
    return event
`})
	if _, err := c.CreateFunction(ctx, &lambda.CreateFunctionInput{
		FunctionName: aws.String("appender"), Runtime: types.RuntimePython312, Role: aws.String(role),
		Handler: aws.String("handler.handler"), Code: &types.FunctionCode{ZipFile: code}, Timeout: aws.Int32(10),
		Environment: &types.Environment{Variables: map[string]string{"OUT": out}},
	}); err != nil {
		t.Fatal(err)
	}
	if err := lambda.NewFunctionActiveV2Waiter(c).Wait(ctx, &lambda.GetFunctionInput{FunctionName: aws.String("appender")}, 30*time.Second); err != nil {
		t.Fatal(err)
	}
	if _, err := c.PutFunctionConcurrency(ctx, &lambda.PutFunctionConcurrencyInput{FunctionName: aws.String("appender"), ReservedConcurrentExecutions: aws.Int32(1)}); err != nil {
		t.Fatal(err)
	}
	const n = 20
	for i := range n {
		res, err := c.Invoke(ctx, &lambda.InvokeInput{FunctionName: aws.String("appender"), InvocationType: types.InvocationTypeEvent,
			Payload: []byte(`{"id":"event-` + strconv.Itoa(i) + `"}`)})
		if err != nil {
			t.Fatal(err)
		}
		if res.StatusCode != http.StatusAccepted {
			t.Fatalf("event %d answered %d", i, res.StatusCode)
		}
	}
	s.kill9()
	ranBefore := ranIDs(t, out)
	t.Logf("%d of %d events had run at the kill", len(ranBefore), n)

	s2 := startLamb(t, dataDir)
	var ran []string
	testwait.Within(t, 90*time.Second, "all events to run after the restart", func() bool {
		ran = ranIDs(t, out)
		seen := map[string]bool{}
		for _, id := range ran {
			seen[id] = true
		}
		return len(seen) == n
	})
	seen := map[string]int{}
	for _, id := range ran {
		seen[id]++
	}
	dups := 0
	for id, k := range seen {
		if k > 1 {
			dups += k - 1
			t.Logf("%s ran %d times", id, k)
		}
	}
	for i := range n {
		if seen["event-"+strconv.Itoa(i)] == 0 {
			t.Errorf("event-%d never ran", i)
		}
	}
	t.Logf("%d runs of %d events after kill -9 and restart: %d duplicates", len(ran), n, dups)
	_ = s2
}

// ranIDs reads the ids the function appended, one a line.
func ranIDs(t *testing.T, path string) []string {
	t.Helper()
	b, err := os.ReadFile(path)
	if os.IsNotExist(err) {
		return nil
	}
	if err != nil {
		t.Fatal(err)
	}
	return strings.Fields(string(b))
}
