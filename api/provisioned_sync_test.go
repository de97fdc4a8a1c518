package api

import (
	"context"
	"errors"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	"github.com/aws/aws-sdk-go-v2/service/lambda/types"
	"github.com/lambhq/lamb/engine"
	"github.com/lambhq/lamb/engine/backend"
	"github.com/lambhq/lamb/engine/backend/process"
	"github.com/lambhq/lamb/internal/testenv"
	"github.com/lambhq/lamb/store"
)

// provEngine records what the API asks to keep provisioned, per version.
// While hold is open, Provision with n > 0 waits for it to close, so tests
// see the IN_PROGRESS that AWS shows while it allocates.
type provEngine struct {
	mu          sync.Mutex
	provisioned map[string]int // version -> instances
	hold        chan struct{}
	calls       int // Provision calls with n > 0
}

func (e *provEngine) Invoke(_ context.Context, fn *engine.Function, _ *engine.Request) (*engine.Result, error) {
	if fn.ReservedConcurrency != nil && *fn.ReservedConcurrency == 0 {
		return nil, engine.ErrThrottled
	}
	return &engine.Result{Payload: []byte(`null`)}, nil
}
func (e *provEngine) Prepull(context.Context, *engine.Function, func(backend.Progress)) error {
	return nil
}
func (e *provEngine) Evict(context.Context, *engine.Function) (bool, error) { return false, nil }
func (e *provEngine) Instances() []engine.InstanceInfo                      { return nil }

func (e *provEngine) Provision(ctx context.Context, fn *engine.Function, n int) error {
	e.mu.Lock()
	hold := e.hold
	if n > 0 {
		e.calls++
	}
	e.mu.Unlock()
	if hold != nil && n > 0 {
		select {
		case <-hold:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.provisioned == nil {
		e.provisioned = map[string]int{}
	}
	e.provisioned[fn.Version] = n
	return nil
}

func (e *provEngine) Unprovision(ctx context.Context, fn *engine.Function) error {
	return e.Provision(ctx, fn, 0)
}

// holdProvision makes Provision wait until the returned release is called
// (once or more).
func (e *provEngine) holdProvision() (release func()) {
	ch := make(chan struct{})
	e.mu.Lock()
	e.hold = ch
	e.mu.Unlock()
	var once sync.Once
	return func() {
		once.Do(func() {
			e.mu.Lock()
			e.hold = nil
			e.mu.Unlock()
			close(ch)
		})
	}
}

func (e *provEngine) state() map[string]int {
	e.mu.Lock()
	defer e.mu.Unlock()
	out := map[string]int{}
	for v, n := range e.provisioned {
		if n > 0 {
			out[v] = n
		}
	}
	return out
}

func (e *provEngine) numCalls() int {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.calls
}

// startProvServer serves cfg on a real httptest server and returns a client;
// stop closes both (also at the end of the test).
func startProvServer(t *testing.T, cfg Config) (h *harness, stop func()) {
	t.Helper()
	srv := New(cfg)
	ts := httptest.NewServer(srv)
	h = &harness{t: t, srv: srv, ts: ts, rec: &recorder{next: ts.Client().Transport}}
	h.client = h.clientFor(testAccount, "us-east-1")
	var once sync.Once
	stop = func() {
		once.Do(func() {
			ts.Close()
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			if err := srv.Close(ctx); err != nil {
				t.Errorf("Close: %v", err)
			}
		})
	}
	t.Cleanup(stop)
	return h, stop
}

// provMemory serves a memory store with eng (see startProvServer), creates
// fn there with versions 1..versions published (see provFunction) and
// returns the harness and its client.
func provMemory(t *testing.T, eng Invoker, fn string, versions int) (*harness, *lambda.Client) {
	t.Helper()
	h, _ := startProvServer(t, Config{Store: store.NewMemory(), Engine: eng})
	provFunction(t, h.client, fn, versions)
	return h, h.client
}

// provAlias creates alias of fn on version.
func provAlias(t *testing.T, c *lambda.Client, fn, alias, version string) {
	t.Helper()
	if _, err := c.CreateAlias(context.Background(), &lambda.CreateAliasInput{FunctionName: aws.String(fn), Name: aws.String(alias), FunctionVersion: aws.String(version)}); err != nil {
		t.Fatal(err)
	}
}

// wantPCConfigs fails unless fn lists exactly n provisioned concurrency configs.
func wantPCConfigs(t *testing.T, c *lambda.Client, fn string, n int) {
	t.Helper()
	list, err := c.ListProvisionedConcurrencyConfigs(context.Background(), &lambda.ListProvisionedConcurrencyConfigsInput{FunctionName: aws.String(fn)})
	if err != nil || len(list.ProvisionedConcurrencyConfigs) != n {
		t.Fatalf("List %s: %v %+v, want %d configs", fn, err, list, n)
	}
}

// reopenStore closes st and opens the durable store in dir again, as a
// restarted lamb does; the new store is closed at the end of the test.
func reopenStore(ctx context.Context, t *testing.T, st *store.Bolt, dir string) *store.Bolt {
	t.Helper()
	if err := st.Close(); err != nil {
		t.Fatal(err)
	}
	st2, err := store.Open(ctx, dir)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = st2.Close() })
	return st2
}

// provFunction creates a function with versions 1..versions published.
func provFunction(t *testing.T, c *lambda.Client, name string, versions int) {
	t.Helper()
	ctx := context.Background()
	if _, err := c.CreateFunction(ctx, createInput(t, name)); err != nil {
		t.Fatal(err)
	}
	waitActive(t, c, name)
	for i := range versions {
		desc := "v" + string(rune('1'+i)) // each version differs, so each publishes
		if _, err := c.UpdateFunctionConfiguration(ctx, &lambda.UpdateFunctionConfigurationInput{FunctionName: aws.String(name), Description: aws.String(desc)}); err != nil {
			t.Fatal(err)
		}
		waitUpdated(t, c, name)
		if _, err := c.PublishVersion(ctx, &lambda.PublishVersionInput{FunctionName: aws.String(name)}); err != nil {
			t.Fatal(err)
		}
	}
}

func getPC(t *testing.T, c *lambda.Client, name, q string) *lambda.GetProvisionedConcurrencyConfigOutput {
	t.Helper()
	out, err := c.GetProvisionedConcurrencyConfig(context.Background(), &lambda.GetProvisionedConcurrencyConfigInput{FunctionName: aws.String(name), Qualifier: aws.String(q)})
	if err != nil {
		t.Fatalf("GetProvisionedConcurrencyConfig %s:%s: %v", name, q, err)
	}
	return out
}

func putPC(t *testing.T, c *lambda.Client, name, q string, n int32) {
	t.Helper()
	out, err := c.PutProvisionedConcurrencyConfig(context.Background(), &lambda.PutProvisionedConcurrencyConfigInput{
		FunctionName: aws.String(name), Qualifier: aws.String(q), ProvisionedConcurrentExecutions: aws.Int32(n)})
	if err != nil {
		t.Fatalf("PutProvisionedConcurrencyConfig %s:%s: %v", name, q, err)
	}
	if out.Status != types.ProvisionedConcurrencyStatusEnumInProgress {
		t.Fatalf("Put answered %s, want IN_PROGRESS", out.Status)
	}
}

// waitPC polls the config until it has status (failing on FAILED unless that is wanted).
func waitPC(t *testing.T, c *lambda.Client, name, q string, status types.ProvisionedConcurrencyStatusEnum) *lambda.GetProvisionedConcurrencyConfigOutput {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		got := getPC(t, c, name, q)
		if got.Status == status {
			return got
		}
		if got.Status == types.ProvisionedConcurrencyStatusEnumFailed {
			t.Fatalf("%s:%s FAILED: %s", name, q, aws.ToString(got.StatusReason))
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s:%s status %s, want %s", name, q, got.Status, status)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// waitEngine polls until the engine keeps exactly want provisioned.
func waitEngine(t *testing.T, e *provEngine, want map[string]int) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		got := e.state()
		if equalCounts(got, want) {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("engine keeps %v provisioned, want %v", got, want)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func equalCounts(a, b map[string]int) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if b[k] != v {
			return false
		}
	}
	return true
}

func wantInProgress(t *testing.T, c *lambda.Client, name, q string) {
	t.Helper()
	got := getPC(t, c, name, q)
	if got.Status != types.ProvisionedConcurrencyStatusEnumInProgress || aws.ToInt32(got.AllocatedProvisionedConcurrentExecutions) != 0 {
		t.Fatalf("%s:%s: status %s allocated %d, want IN_PROGRESS allocated 0", name, q, got.Status, aws.ToInt32(got.AllocatedProvisionedConcurrentExecutions))
	}
}

// A second server on the same data dir starts the provisioned instances of
// the first again: IN_PROGRESS at once, READY when they are up.
func TestProvisionedConcurrencySurvivesRestart(t *testing.T) {
	dir := t.TempDir()
	ctx := context.Background()
	st1, err := store.Open(ctx, dir)
	if err != nil {
		t.Fatal(err)
	}
	eng1 := &provEngine{}
	h1, stop1 := startProvServer(t, Config{Store: st1, Engine: eng1})
	provFunction(t, h1.client, "pcr", 2)
	provAlias(t, h1.client, "pcr", "live", "2")
	putPC(t, h1.client, "pcr", "1", 2)
	putPC(t, h1.client, "pcr", "live", 3)
	waitPC(t, h1.client, "pcr", "1", types.ProvisionedConcurrencyStatusEnumReady)
	waitPC(t, h1.client, "pcr", "live", types.ProvisionedConcurrencyStatusEnumReady)
	waitEngine(t, eng1, map[string]int{"1": 2, "2": 3})
	stop1()

	// The second server's engine has nothing running, like a fresh process.
	st2 := reopenStore(ctx, t, st1, dir)
	eng2 := &provEngine{}
	release := eng2.holdProvision()
	h2, _ := startProvServer(t, Config{Store: st2, Engine: eng2})
	// RestoreProvisioned returns while the instances are still starting.
	if err := h2.srv.RestoreProvisioned(ctx); err != nil {
		t.Fatal(err)
	}
	for _, q := range []string{"1", "live"} {
		wantInProgress(t, h2.client, "pcr", q)
	}
	release()
	for q, n := range map[string]int32{"1": 2, "live": 3} {
		got := waitPC(t, h2.client, "pcr", q, types.ProvisionedConcurrencyStatusEnumReady)
		if aws.ToInt32(got.AllocatedProvisionedConcurrentExecutions) != n || aws.ToInt32(got.AvailableProvisionedConcurrentExecutions) != n {
			t.Errorf("%s READY with %+v, want %d allocated", q, got, n)
		}
	}
	waitEngine(t, eng2, map[string]int{"1": 2, "2": 3})
	wantPCConfigs(t, h2.client, "pcr", 2)
}

// Provisioned concurrency on an alias follows the alias: to a new version, and
// split by the routing weights; deleting the alias or a version releases it.
func TestProvisionedConcurrencyFollowsAlias(t *testing.T) {
	ctx := context.Background()
	eng := &provEngine{}
	_, c := provMemory(t, eng, "pca", 3)
	provAlias(t, c, "pca", "live", "1")
	putPC(t, c, "pca", "live", 4)
	waitPC(t, c, "pca", "live", types.ProvisionedConcurrencyStatusEnumReady)
	waitEngine(t, eng, map[string]int{"1": 4})

	tests := []struct {
		name    string
		update  lambda.UpdateAliasInput
		want    map[string]int
		reready bool // the update moves instances: IN_PROGRESS, then READY
	}{
		{"new version", lambda.UpdateAliasInput{FunctionVersion: aws.String("2")}, map[string]int{"2": 4}, true},
		{"weighted routing", lambda.UpdateAliasInput{RoutingConfig: &types.AliasRoutingConfiguration{AdditionalVersionWeights: map[string]float64{"3": 0.25}}}, map[string]int{"2": 3, "3": 1}, true},
		{"description only", lambda.UpdateAliasInput{Description: aws.String("same versions")}, map[string]int{"2": 3, "3": 1}, false},
		{"routing removed", lambda.UpdateAliasInput{RoutingConfig: &types.AliasRoutingConfiguration{}}, map[string]int{"2": 4}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before := getPC(t, c, "pca", "live")
			calls := eng.numCalls()
			release := eng.holdProvision()
			defer release()
			in := tt.update
			in.FunctionName, in.Name = aws.String("pca"), aws.String("live")
			if _, err := c.UpdateAlias(ctx, &in); err != nil {
				t.Fatal(err)
			}
			if !tt.reready {
				got := getPC(t, c, "pca", "live")
				if got.Status != types.ProvisionedConcurrencyStatusEnumReady || aws.ToString(got.LastModified) != aws.ToString(before.LastModified) || eng.numCalls() != calls {
					t.Fatalf("an update that moves nothing re-allocated: %s %s (was %s), %d provision calls", got.Status, aws.ToString(got.LastModified), aws.ToString(before.LastModified), eng.numCalls()-calls)
				}
				return
			}
			wantInProgress(t, c, "pca", "live")
			release()
			got := waitPC(t, c, "pca", "live", types.ProvisionedConcurrencyStatusEnumReady)
			if aws.ToInt32(got.AllocatedProvisionedConcurrentExecutions) != 4 {
				t.Errorf("READY with %d allocated, want 4", aws.ToInt32(got.AllocatedProvisionedConcurrentExecutions))
			}
			waitEngine(t, eng, tt.want)
		})
	}

	// A version's own config: deleting the version releases its instances.
	putPC(t, c, "pca", "1", 2)
	waitPC(t, c, "pca", "1", types.ProvisionedConcurrencyStatusEnumReady)
	waitEngine(t, eng, map[string]int{"1": 2, "2": 4})
	if _, err := c.DeleteFunction(ctx, &lambda.DeleteFunctionInput{FunctionName: aws.String("pca"), Qualifier: aws.String("1")}); err != nil {
		t.Fatal(err)
	}
	waitEngine(t, eng, map[string]int{"2": 4})

	// Deleting the alias deletes its config and releases its instances.
	if _, err := c.DeleteAlias(ctx, &lambda.DeleteAliasInput{FunctionName: aws.String("pca"), Name: aws.String("live")}); err != nil {
		t.Fatal(err)
	}
	waitEngine(t, eng, map[string]int{})
	wantPCConfigs(t, c, "pca", 0)
}

// An alias moved to $LATEST cannot keep provisioned concurrency: the config
// fails (AWS refuses provisioned concurrency on unpublished versions), and
// its instances are released.
func TestProvisionedConcurrencyAliasToLatestFails(t *testing.T) {
	ctx := context.Background()
	eng := &provEngine{}
	_, c := provMemory(t, eng, "pcl", 1)
	provAlias(t, c, "pcl", "latest", "$LATEST")
	_, err := c.PutProvisionedConcurrencyConfig(ctx, &lambda.PutProvisionedConcurrencyConfigInput{
		FunctionName: aws.String("pcl"), Qualifier: aws.String("latest"), ProvisionedConcurrentExecutions: aws.Int32(1)})
	var ipv *types.InvalidParameterValueException
	if !errors.As(err, &ipv) || aws.ToString(ipv.Message) != msgUnpublished {
		t.Fatalf("Put on an alias of $LATEST: %v", err)
	}
	if _, err := c.UpdateAlias(ctx, &lambda.UpdateAliasInput{FunctionName: aws.String("pcl"), Name: aws.String("latest"), FunctionVersion: aws.String("1")}); err != nil {
		t.Fatal(err)
	}
	putPC(t, c, "pcl", "latest", 1)
	waitPC(t, c, "pcl", "latest", types.ProvisionedConcurrencyStatusEnumReady)
	if _, err := c.UpdateAlias(ctx, &lambda.UpdateAliasInput{FunctionName: aws.String("pcl"), Name: aws.String("latest"), FunctionVersion: aws.String("$LATEST")}); err != nil {
		t.Fatal(err)
	}
	got := waitPC(t, c, "pcl", "latest", types.ProvisionedConcurrencyStatusEnumFailed)
	if aws.ToString(got.StatusReason) != msgUnpublished {
		t.Errorf("StatusReason %q", aws.ToString(got.StatusReason))
	}
	waitEngine(t, eng, map[string]int{})
}

// AWS's account limits: provisioned concurrency comes out of the function's
// reserved concurrency when it has some, else out of the account's
// unreserved concurrency, which must keep its minimum.
func TestProvisionedConcurrencyLimits(t *testing.T) {
	ctx := context.Background()
	_, c := provMemory(t, &provEngine{}, "reserved", 2)
	provFunction(t, c, "open", 2)
	if _, err := c.PutFunctionConcurrency(ctx, &lambda.PutFunctionConcurrencyInput{FunctionName: aws.String("reserved"), ReservedConcurrentExecutions: aws.Int32(10)}); err != nil {
		t.Fatal(err)
	}
	unreserved := func() int32 {
		t.Helper()
		s, err := c.GetAccountSettings(ctx, &lambda.GetAccountSettingsInput{})
		if err != nil {
			t.Fatal(err)
		}
		return aws.ToInt32(s.AccountLimit.UnreservedConcurrentExecutions)
	}
	tests := []struct {
		name, fn, q    string
		n              int32
		wantErr        string // "" for success
		wantUnreserved int32  // after the call
	}{
		{"more than reserved", "reserved", "1", 11, "Requested Provisioned Concurrency should not be greater than the reservedConcurrentExecution for function", 990},
		{"within reserved", "reserved", "1", 6, "", 990},
		{"reserved shared between versions", "reserved", "2", 5, "Requested Provisioned Concurrency should not be greater than the reservedConcurrentExecution for function", 990},
		{"rest of reserved", "reserved", "2", 4, "", 990},
		{"over unreserved", "open", "1", 991, "Specified ConcurrentExecutions for function is greater than account's unreserved concurrency [990].", 990},
		{"below minimum", "open", "1", 891, "Specified ConcurrentExecutions for function decreases account's UnreservedConcurrentExecution below its minimum value of [100].", 990},
		{"from unreserved", "open", "1", 90, "", 900},
		{"replacing own config", "open", "1", 800, "", 190},
		{"others count", "open", "2", 91, "Specified ConcurrentExecutions for function decreases account's UnreservedConcurrentExecution below its minimum value of [100].", 190},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := c.PutProvisionedConcurrencyConfig(ctx, &lambda.PutProvisionedConcurrencyConfigInput{
				FunctionName: aws.String(tt.fn), Qualifier: aws.String(tt.q), ProvisionedConcurrentExecutions: aws.Int32(tt.n)})
			switch {
			case tt.wantErr == "" && err != nil:
				t.Fatalf("Put: %v", err)
			case tt.wantErr != "":
				var ipv *types.InvalidParameterValueException
				if !errors.As(err, &ipv) || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("Put: %v, want InvalidParameterValueException %q", err, tt.wantErr)
				}
			}
			if got := unreserved(); got != tt.wantUnreserved {
				t.Errorf("UnreservedConcurrentExecutions %d, want %d", got, tt.wantUnreserved)
			}
		})
	}
}

// The same across a restart with the real engine on the process backend: the
// second server's engine really runs the provisioned instance again.
func TestProvisionedConcurrencySurvivesRestartRealEngine(t *testing.T) {
	testenv.LookPath(t, "python3")
	dir := t.TempDir()
	ctx := context.Background()
	run := func(check func(h *harness, e *engine.Engine)) {
		st, err := store.Open(ctx, dir)
		if err != nil {
			t.Fatal(err)
		}
		b, err := process.New(process.Config{WorkDir: t.TempDir()})
		if err != nil {
			t.Fatal(err)
		}
		e := engine.New(b)
		h, stop := startProvServer(t, Config{Store: st, Engine: e})
		check(h, e)
		stop()
		if err := errors.Join(e.Close(ctx), b.Close(ctx), st.Close()); err != nil {
			t.Fatal(err)
		}
	}
	provisioned := func(e *engine.Engine) int {
		n := 0
		for _, in := range e.Instances() {
			if in.FunctionName == "pcreal" && in.Version == "1" && in.State == "idle" {
				n++
			}
		}
		return n
	}
	run(func(h *harness, e *engine.Engine) {
		provFunction(t, h.client, "pcreal", 1)
		putPC(t, h.client, "pcreal", "1", 1)
		waitPC(t, h.client, "pcreal", "1", types.ProvisionedConcurrencyStatusEnumReady)
		if n := provisioned(e); n != 1 {
			t.Fatalf("%d idle instances of version 1 after READY, want 1", n)
		}
	})
	run(func(h *harness, e *engine.Engine) {
		if n := len(e.Instances()); n != 0 {
			t.Fatalf("a new engine runs %d instances", n)
		}
		if err := h.srv.RestoreProvisioned(ctx); err != nil {
			t.Fatal(err)
		}
		waitPC(t, h.client, "pcreal", "1", types.ProvisionedConcurrencyStatusEnumReady)
		if n := provisioned(e); n != 1 {
			t.Fatalf("%d idle instances of version 1 after restart, want 1", n)
		}
		// The provisioned instance serves the call: no second instance starts.
		out, err := h.client.Invoke(ctx, &lambda.InvokeInput{FunctionName: aws.String("pcreal"), Qualifier: aws.String("1")})
		if err != nil || out.FunctionError != nil || string(out.Payload) != "1" {
			t.Fatalf("Invoke: %v %+v", err, out)
		}
		if n := len(e.Instances()); n != 1 {
			t.Fatalf("%d instances after an invocation, want the provisioned 1", n)
		}
	})
}

// A function deleted while its provisioned instances start keeps none of them.
func TestProvisionedConcurrencyFunctionDeletedWhileStarting(t *testing.T) {
	ctx := context.Background()
	eng := &provEngine{}
	h, c := provMemory(t, eng, "pcd", 1)
	release := eng.holdProvision()
	defer release()
	putPC(t, c, "pcd", "1", 2)
	deadline := time.Now().Add(10 * time.Second)
	for eng.numCalls() == 0 { // the sync is inside Provision now
		if time.Now().After(deadline) {
			t.Fatal("Provision never called")
		}
		time.Sleep(time.Millisecond)
	}
	if _, err := c.DeleteFunction(ctx, &lambda.DeleteFunctionInput{FunctionName: aws.String("pcd")}); err != nil {
		t.Fatal(err)
	}
	release()
	waitSyncIdle(t, h.srv)
	if got := eng.state(); len(got) != 0 {
		t.Fatalf("engine keeps %v provisioned for a deleted function", got)
	}
}

// waitSyncIdle waits until no provisioned concurrency sync runs.
func waitSyncIdle(t *testing.T, s *Server) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		s.provisioned.mu.Lock()
		busy := false
		for _, st := range s.provisioned.fns {
			busy = busy || st.running
		}
		s.provisioned.mu.Unlock()
		if !busy {
			return
		}
		if time.Now().After(deadline) {
			t.Fatal("provisioned concurrency sync still running")
		}
		time.Sleep(time.Millisecond)
	}
}
