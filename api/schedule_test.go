package api

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/lambhq/lamb/engine"
	"github.com/lambhq/lamb/engine/backend"
)

func TestScheduleNext(t *testing.T) {
	at := time.Date(2026, 12, 3, 10, 17, 30, 0, time.UTC) // a Thursday
	tests := []struct {
		expr string
		want string // RFC 3339, "" for an error
	}{
		{"rate(5 minutes)", "2026-12-03T10:22:30Z"},
		{"rate(1 hour)", "2026-12-03T11:17:30Z"},
		{"rate(2 days)", "2026-12-05T10:17:30Z"},
		{"cron(0 12 * * ? *)", "2026-12-03T12:00:00Z"},
		{"cron(*/15 * * * ? *)", "2026-12-03T10:30:00Z"},
		{"cron(0 8 ? * MON-FRI *)", "2026-12-04T08:00:00Z"},
		{"cron(0 9 ? * SUN *)", "2026-12-06T09:00:00Z"},
		{"cron(30 0 1 JAN,JUL ? *)", "2027-01-01T00:30:00Z"},
		{"cron(0/20 10 3 12 ? 2026)", "2026-12-03T10:20:00Z"},
		{"rate(0 minutes)", ""},
		{"rate(5 weeks)", ""},
		{"cron(0 12 * *)", ""},
		{"cron(0 12 L * ? *)", ""},
		{"every day", ""},
	}
	for _, tc := range tests {
		sc, err := parseSchedule(tc.expr)
		if tc.want == "" {
			if err == nil {
				t.Errorf("%s: no error", tc.expr)
			}
			continue
		}
		if err != nil {
			t.Errorf("%s: %v", tc.expr, err)
			continue
		}
		if got := sc.next(at).Format(time.RFC3339); got != tc.want {
			t.Errorf("%s: next = %s, want %s", tc.expr, got, tc.want)
		}
	}
}

// recEngine records the payloads it is asked to run.
type recEngine struct {
	payloads chan []byte
}

func (e *recEngine) Invoke(_ context.Context, _ *engine.Function, req *engine.Request) (*engine.Result, error) {
	e.payloads <- req.Payload
	return &engine.Result{Payload: []byte(`null`)}, nil
}
func (e *recEngine) Prepull(context.Context, *engine.Function, func(backend.Progress)) error {
	return nil
}
func (e *recEngine) Evict(context.Context, *engine.Function) (bool, error) { return false, nil }
func (e *recEngine) Instances() []engine.InstanceInfo                      { return nil }

// A due schedule invokes its function with the event EventBridge sends.
func TestScheduleFires(t *testing.T) {
	eng := &recEngine{payloads: make(chan []byte, 4)}
	h := newHarness(t, Config{Engine: eng})
	ctx := context.Background()
	if _, err := h.client.CreateFunction(ctx, createInput(t, "ticked")); err != nil {
		t.Fatal(err)
	}
	waitActive(t, h.client, "ticked")
	put := func(body string) int {
		req, _ := http.NewRequest(http.MethodPut, h.ts.URL+"/_lamb/schedules/every-minute", strings.NewReader(body))
		req.Header.Set("Authorization", "AWS4-HMAC-SHA256 Credential="+testAccount+"/20260101/us-east-1/lambda/aws4_request, SignedHeaders=host, Signature=0")
		resp, err := h.ts.Client().Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	if code := put(`{"function":"ticked","expression":"rate(soon)","enabled":true}`); code != http.StatusBadRequest {
		t.Errorf("a bad expression: %d, want 400", code)
	}
	if code := put(`{"function":"ticked","expression":"rate(1 minute)","enabled":true}`); code != http.StatusNoContent {
		t.Fatalf("PUT schedule: %d", code)
	}
	st := map[string]*scheduleState{}
	t0 := time.Date(2026, 12, 3, 10, 0, 0, 0, time.UTC)
	for i, step := range []struct {
		at    time.Duration
		fires int
	}{{0, 0}, {30 * time.Second, 0}, {time.Minute, 1}, {90 * time.Second, 0}, {2 * time.Minute, 1}} {
		if got := h.srv.scheduleStep(ctx, st, t0.Add(step.at)); got != step.fires {
			t.Errorf("step %d (+%s): fired %d, want %d", i, step.at, got, step.fires)
		}
	}
	// Two invocations, run by the async workers in either order.
	times := map[any]bool{}
	for range 2 {
		select {
		case p := <-eng.payloads:
			var ev map[string]any
			if err := json.Unmarshal(p, &ev); err != nil {
				t.Fatal(err)
			}
			if ev["detail-type"] != "Scheduled Event" || ev["source"] != "aws.events" || ev["account"] != testAccount ||
				!strings.HasSuffix(ev["resources"].([]any)[0].(string), ":rule/every-minute") {
				t.Errorf("event = %s", p)
			}
			times[ev["time"]] = true
		case <-time.After(10 * time.Second):
			t.Fatal("a scheduled invocation did not run")
		}
	}
	if !times["2026-12-03T10:01:00Z"] || !times["2026-12-03T10:02:00Z"] {
		t.Errorf("invocation times %v, want 10:01 and 10:02", times)
	}
}
