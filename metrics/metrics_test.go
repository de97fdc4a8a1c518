package metrics

import (
	"fmt"
	"io"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/lambhq/lamb/engine"
)

func scrape(t *testing.T, m *Metrics) string {
	t.Helper()
	rec := httptest.NewRecorder()
	m.Handler().ServeHTTP(rec, httptest.NewRequest("GET", "/metrics", nil))
	if rec.Code != 200 {
		t.Fatalf("scrape: %d %s", rec.Code, rec.Body)
	}
	b, _ := io.ReadAll(rec.Body)
	return string(b)
}

func TestInvocationsAndHistograms(t *testing.T) {
	m := New("1.2.3", "process")
	fn := &engine.Function{Name: "echo", Version: "$LATEST"}
	m.Invoked(fn, engine.Invocation{Outcome: engine.OutcomeSuccess, Cold: true, Duration: 3 * time.Millisecond, InitDuration: 200 * time.Millisecond})
	m.Invoked(fn, engine.Invocation{Outcome: engine.OutcomeSuccess, Duration: 40 * time.Millisecond})
	m.Invoked(fn, engine.Invocation{Outcome: engine.OutcomeTimeout, Duration: 3 * time.Second})
	m.Invoked(fn, engine.Invocation{Outcome: engine.OutcomeThrottled})
	m.Invoked(&engine.Function{Name: "other", Version: "2"}, engine.Invocation{Outcome: engine.OutcomeError, Duration: time.Millisecond})
	m.APIRequest("lambda", "Invoke", 200)
	m.APIRequest("lambda", "Invoke", 200)
	m.APIRequest("logs", "FilterLogEvents", 400)
	m.EventSourceBatch("echo", "sqs", 10, true)
	m.EventSourceBatch("echo", "sqs", 3, false)

	for _, c := range []struct {
		got, want float64
		what      string
	}{
		{testutil.ToFloat64(m.invocations.WithLabelValues("echo", "$LATEST", "success")), 2, "echo successes"},
		{testutil.ToFloat64(m.invocations.WithLabelValues("echo", "$LATEST", "timeout")), 1, "echo timeouts"},
		{testutil.ToFloat64(m.invocations.WithLabelValues("echo", "$LATEST", "throttled")), 1, "echo throttles"},
		{testutil.ToFloat64(m.invocations.WithLabelValues("other", "2", "error")), 1, "other errors"},
		{testutil.ToFloat64(m.coldStarts.WithLabelValues("echo", "$LATEST")), 1, "cold starts"},
		{testutil.ToFloat64(m.apiRequests.WithLabelValues("lambda", "Invoke", "200")), 2, "Invoke 200s"},
		{testutil.ToFloat64(m.esmRecords.WithLabelValues("echo", "sqs", "success")), 10, "records delivered"},
		{testutil.ToFloat64(m.esmBatches.WithLabelValues("echo", "sqs", "error")), 1, "batches failed"},
	} {
		if c.got != c.want {
			t.Errorf("%s = %v, want %v", c.what, c.got, c.want)
		}
	}

	out := scrape(t, m)
	for _, want := range []string{
		// Throttles never ran: three durations for echo, one under 5 ms.
		`lamb_invocation_duration_seconds_count{function="echo",version="$LATEST"} 3`,
		`lamb_invocation_duration_seconds_bucket{function="echo",version="$LATEST",le="0.005"} 1`,
		`lamb_invocation_duration_seconds_bucket{function="echo",version="$LATEST",le="0.05"} 2`,
		`lamb_init_duration_seconds_count{function="echo",version="$LATEST"} 1`,
		`lamb_init_duration_seconds_sum{function="echo",version="$LATEST"} 0.2`,
		`lamb_build_info{backend="process",goversion="go`,
		`lamb_api_requests_total{api="logs",code="400",operation="FilterLogEvents"} 1`,
		"go_goroutines ",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("scrape lacks %q", want)
		}
	}
	if strings.Contains(out, "lamb_instances{") || strings.Contains(out, "lamb_async_queue_events") {
		t.Errorf("state gauges without sources:\n%s", out)
	}
}

func TestStateGauges(t *testing.T) {
	m := New("dev", "docker")
	m.WatchInstances(func() []engine.InstanceInfo {
		return []engine.InstanceInfo{
			{FunctionName: "a", Version: "$LATEST", State: "idle", Backend: "docker"},
			{FunctionName: "a", Version: "$LATEST", State: "idle", Backend: "docker"},
			{FunctionName: "a", Version: "$LATEST", State: "busy", Backend: "docker"},
		}
	})
	oldest := time.Now().Add(-90 * time.Second)
	m.WatchAsyncQueue(func() AsyncQueue { return AsyncQueue{Events: 4, Bytes: 1000, Oldest: oldest} })
	out := scrape(t, m)
	for _, want := range []string{
		`lamb_instances{backend="docker",function="a",state="idle",version="$LATEST"} 2`,
		`lamb_instances{backend="docker",function="a",state="busy",version="$LATEST"} 1`,
		"lamb_async_queue_events 4",
		"lamb_async_queue_bytes 1000",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("scrape lacks %q:\n%s", want, out)
		}
	}
	var age float64
	for l := range strings.Lines(out) {
		if v, ok := strings.CutPrefix(l, "lamb_async_queue_oldest_event_age_seconds "); ok {
			if _, err := fmt.Sscan(strings.TrimSpace(v), &age); err != nil {
				t.Fatal(err)
			}
		}
	}
	if age < 90 || age > 120 {
		t.Errorf("oldest age = %v, want about 90 s", age)
	}
	problems, err := testutil.GatherAndLint(m.Registry())
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range problems {
		if strings.HasPrefix(p.Metric, "lamb_") {
			t.Errorf("lint: %s: %s", p.Metric, p.Text)
		}
	}
}
