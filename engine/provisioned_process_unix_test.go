//go:build unix

package engine_test

import (
	"context"
	"runtime"
	"slices"
	"syscall"
	"testing"
	"time"

	"github.com/lambhq/lamb/engine"
	"github.com/lambhq/lamb/engine/backend/backendtest"
	"github.com/lambhq/lamb/engine/backend/process"
	"github.com/lambhq/lamb/internal/testwait"
)

// dyingApp exits on command: at once (mid-invocation) or shortly after
// answering (while idle, behind the engine's back).
const dyingApp = `import os, sys, threading
def handler(event, context):
    if "exit" in event:
        sys.stdout.flush()
        os._exit(event["exit"])
    if "exit_after" in event:
        threading.Timer(event["exit_after"], lambda: os._exit(3)).start()
    return {"pid": os.getpid()}
`

// TestProcessProvisionedInstancesAreReplaced kills provisioned instances in
// the ways a real runtime dies and checks the engine brings the version back
// to its provisioned count by itself, with no invocation, then that Close
// leaves no goroutine, descriptor or process behind.
func TestProcessProvisionedInstancesAreReplaced(t *testing.T) {
	needPython(t)
	baseG, baseFD := runtime.NumGoroutine(), countFDs(t)
	b, err := process.New(process.Config{WorkDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	e := engine.New(b)
	closed := false
	t.Cleanup(func() {
		if !closed {
			_ = e.Close(context.Background())
		}
	})
	code := backendtest.ZipArtifact(t, map[string]string{"app.py": dyingApp})
	fn := &engine.Function{
		AccountID: "000000000000", Region: "us-east-1", Name: "dying", Version: "1",
		ARN:     "arn:aws:lambda:us-east-1:000000000000:function:dying",
		Runtime: "python3.12", Handler: "app.handler", MemoryMB: 128, Timeout: 3 * time.Second,
		Code: code, CodeSHA256: code.SHA256,
	}
	ctx := context.Background()
	const n = 2
	if err := e.Provision(ctx, fn, n); err != nil {
		t.Fatal(err)
	}
	ids := func() []string {
		var out []string
		for _, in := range e.Instances() {
			out = append(out, in.ID)
		}
		return out
	}
	// back waits until the version has n ready instances again, none of
	// them one of gone, and as many runtime processes.
	back := func(what string, gone []string) {
		t.Helper()
		testwait.For(t, what, func() bool {
			cur := ids()
			if len(cur) != n || e.Provisioned(fn) != n || len(childPIDs(t)) != n {
				return false
			}
			for _, id := range gone {
				if slices.Contains(cur, id) {
					return false
				}
			}
			for _, in := range e.Instances() {
				if in.State != "idle" {
					return false
				}
			}
			return true
		})
	}
	back("provisioned instances", nil)

	tests := []struct {
		name string
		kill func(t *testing.T) // kills exactly one instance
	}{
		{"exits during an invocation", func(t *testing.T) {
			res, err := e.Invoke(ctx, fn, &engine.Request{RequestID: "exit-now", Payload: []byte(`{"exit":1}`)})
			if err != nil || res.FunctionError != "Unhandled" {
				t.Fatalf("invocation that exits: %+v, %v", res, err)
			}
		}},
		{"exits while idle", func(t *testing.T) {
			res, err := e.Invoke(ctx, fn, &engine.Request{RequestID: "exit-later", Payload: []byte(`{"exit_after":0.1}`)})
			if err != nil || res.FunctionError != "" {
				t.Fatalf("invocation: %+v, %v", res, err)
			}
		}},
		{"killed behind lamb's back", func(t *testing.T) {
			kids := childPIDs(t)
			if len(kids) == 0 {
				t.Fatal("no runtime process to kill")
			}
			if err := syscall.Kill(kids[0], syscall.SIGKILL); err != nil {
				t.Fatal(err)
			}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before := ids()
			tt.kill(t)
			// Exactly one of the instances is gone for good.
			testwait.For(t, "the dead instance to be noticed", func() bool {
				gone := 0
				cur := ids()
				for _, id := range before {
					if !slices.Contains(cur, id) {
						gone++
					}
				}
				return gone == 1
			})
			var gone []string
			for _, id := range before {
				if !slices.Contains(ids(), id) {
					gone = append(gone, id)
				}
			}
			back("the dead instance to be replaced", gone)
		})
	}

	// The replacements serve invocations warm.
	if _, err := e.Invoke(ctx, fn, &engine.Request{RequestID: "warm", Payload: []byte(`{}`)}); err != nil {
		t.Fatal(err)
	}
	if n := len(e.Instances()); n != 2 {
		t.Fatalf("%d instances after a warm invocation, want 2", n)
	}

	closed = true
	if err := e.Close(ctx); err != nil {
		t.Fatal(err)
	}
	waitNoLeaks(t, baseG, baseFD)
}
