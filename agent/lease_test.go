package agent_test

import (
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/lambhq/lamb/agent"
	"github.com/lambhq/lamb/agent/agentapi"
)

// An agent with a lease ends its sandbox once no host holds its event
// stream: the host's stream closed (the host died), or never opened.
func TestLeaseEndsSandboxWithoutHost(t *testing.T) {
	const lease, first = 300 * time.Millisecond, 1500 * time.Millisecond
	cases := []struct {
		name    string
		connect bool          // the host opens the event stream
		hold    time.Duration // and holds it this long before closing it
		min     time.Duration // Run must not end sooner than this
	}{
		{"host never connects: the first lease lapses", false, 0, first},
		{"host holds the stream for many leases, then goes", true, 2 * time.Second, 2 * time.Second},
		{"host goes at once", true, 0, 0},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			ln, codes := runLeased(t, lease, first)
			start := time.Now()
			if c.connect {
				es, err := agentapi.NewClient(ln, testSecret).Events(context.Background())
				if err != nil {
					t.Fatal(err)
				}
				if ev := next(t, es, nil); ev.Type != agentapi.EventReady {
					t.Fatalf("first event %+v, want ready", ev)
				}
				select {
				case code := <-codes:
					t.Fatalf("the agent ended (%d) while its host held the stream", code)
				case <-time.After(c.hold):
				}
				es.Close()
			}
			select {
			case code := <-codes:
				took := time.Since(start)
				if code != 0 || took < c.min {
					t.Fatalf("Run returned %d after %s, want 0 after at least %s", code, took, c.min)
				}
				t.Logf("ended %s after start", took.Round(time.Millisecond))
			case <-time.After(c.min + 5*time.Second):
				t.Fatalf("the agent still runs %s after its host went", c.min+5*time.Second)
			}
		})
	}
}

// runLeased runs an agent with lamb's python bootstrap and a lease; it returns
// the host API's address and the channel Run's status arrives on.
func runLeased(t *testing.T, lease, first time.Duration) (string, <-chan int) {
	t.Helper()
	py, dir, name, ln := pythonApp(t) // agent_test.go
	cfg := agent.Config{Listener: ln, Dir: dir, Secret: testSecret, Lease: lease, FirstLease: first,
		Command: []string{py, "-u", filepath.Join(dir, name)},
		Env:     []string{"_HANDLER=app.handler", "LAMBDA_TASK_ROOT=" + dir, "PATH=" + os.Getenv("PATH")}}
	codes := runAgent(t, cfg)
	return ln.Addr().String(), codes
}
