package engine

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/lambhq/lamb/engine/backend"
	"github.com/lambhq/lamb/internal/testwait"
)

func TestProvisionPrestartsAndKeepsWarm(t *testing.T) {
	f := newFake()
	e := newEngine(t, f)
	fn := testFunction()
	fn.Version = "1"
	ctx := context.Background()
	if err := e.Provision(ctx, fn, 2); err != nil {
		t.Fatal(err)
	}
	if f.numLaunches() != 2 || e.Provisioned(fn) != 2 {
		t.Fatalf("after Provision(2): %d launches, %d provisioned", f.numLaunches(), e.Provisioned(fn))
	}
	for _, in := range e.Instances() {
		if in.State != stateIdle || in.Version != "1" {
			t.Errorf("instance %+v: want idle version 1", in)
		}
	}
	// Provisioning again is idempotent.
	if err := e.Provision(ctx, fn, 2); err != nil || f.numLaunches() != 2 {
		t.Fatalf("second Provision(2): %v, %d launches", err, f.numLaunches())
	}
	// Invocations use the warm instances: no cold start.
	for i := range 3 {
		if _, err := e.Invoke(ctx, fn, &Request{RequestID: string(rune('a' + i))}); err != nil {
			t.Fatal(err)
		}
	}
	if f.numLaunches() != 2 {
		t.Fatalf("invocations launched instances: %d launches", f.numLaunches())
	}
	// Idle cleanup leaves provisioned instances alone.
	e.stopIdle(time.Now().Add(time.Hour))
	if f.numLive() != 2 || e.Provisioned(fn) != 2 {
		t.Fatalf("idle cleanup stopped provisioned instances: %d live", f.numLive())
	}
	// Scaling down stops the idle extra.
	if err := e.Provision(ctx, fn, 1); err != nil {
		t.Fatal(err)
	}
	testwait.For(t, "extra instance to stop", func() bool { return f.numLive() == 1 })
	// Unprovision makes the rest ordinary: idle cleanup may stop them now.
	if err := e.Unprovision(ctx, fn); err != nil {
		t.Fatal(err)
	}
	testwait.For(t, "unprovisioned instance to stop", func() bool { return f.numLive() == 0 && e.Provisioned(fn) == 0 })
}

func TestProvisionReplacesDeadAndReportsFailures(t *testing.T) {
	f := newFake()
	e := newEngine(t, f)
	fn := testFunction()
	ctx := context.Background()
	if err := e.Provision(ctx, fn, 1); err != nil {
		t.Fatal(err)
	}
	// Idle cleanup of ordinary instances still works alongside.
	other := testFunction()
	other.Version = "2"
	if _, err := e.Invoke(ctx, other, &Request{RequestID: "x"}); err != nil {
		t.Fatal(err)
	}
	e.stopIdle(time.Now().Add(time.Hour))
	testwait.For(t, "ordinary idle instance to stop", func() bool { return f.numLive() == 1 })

	f.launch = func(context.Context, *backend.Spec) error {
		return &backend.InitError{FunctionError: backend.FunctionError{Type: "Runtime.Boom"}}
	}
	err := e.Provision(ctx, fn, 3)
	var ie *backend.InitError
	if !errors.As(err, &ie) {
		t.Fatalf("Provision with failing launches: %v", err)
	}
	if e.Provisioned(fn) != 1 {
		t.Fatalf("provisioned after failures = %d, want the 1 that started", e.Provisioned(fn))
	}
	if err := e.Provision(ctx, fn, -1); err == nil {
		t.Fatal("negative count accepted")
	}
}

// Releasing a configuration that has no instances must leave the function's
// current instances alone (the API releases what it provisioned earlier, which
// may be a configuration since replaced).
func TestUnprovisionUnknownConfigurationKeepsOthers(t *testing.T) {
	f := newFake()
	e := newEngine(t, f)
	ctx := context.Background()
	cur := testFunction()
	cur.Version = "1"
	if err := e.Provision(ctx, cur, 2); err != nil {
		t.Fatal(err)
	}
	old := testFunction()
	old.Version = "1"
	old.CodeSHA256 = "older"
	tests := []struct {
		name string
		fn   *Function
	}{
		{"older configuration of the same version", old},
		{"another version", func() *Function { fn := testFunction(); fn.Version = "2"; return fn }()},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if err := e.Unprovision(ctx, tt.fn); err != nil {
				t.Fatal(err)
			}
			if got := e.Provisioned(cur); got != 2 || f.numLive() != 2 {
				t.Fatalf("after Unprovision: %d provisioned, %d live; want 2, 2", got, f.numLive())
			}
			if n := len(e.Instances()); n != 2 {
				t.Fatalf("%d instances, want 2", n)
			}
		})
	}
	// Invocations still reuse the provisioned instances: the pool was not retired.
	if _, err := e.Invoke(ctx, cur, &Request{RequestID: "r"}); err != nil {
		t.Fatal(err)
	}
	if f.numLaunches() != 2 {
		t.Fatalf("%d launches, want 2", f.numLaunches())
	}
}
