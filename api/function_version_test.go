package api

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	"github.com/aws/aws-sdk-go-v2/service/lambda/types"
	"github.com/lambhq/lamb/engine"
	"github.com/lambhq/lamb/engine/backend"
)

// echoEngine answers every invocation with what it was asked to run, so tests
// see which version's code and configuration the API handed the engine.
type echoEngine struct {
	mu       sync.Mutex
	calls    []*engine.Function
	reqs     []*engine.Request
	failName string // the function answering with a function error
	sysErrs  int    // the next calls that fail with an engine (system) error

	provisioned map[string]int // "name:version" -> provisioned instances
}

// requestsTo returns the requests made to the function named name.
func (e *echoEngine) requestsTo(name string) []*engine.Request {
	e.mu.Lock()
	defer e.mu.Unlock()
	var out []*engine.Request
	for i, fn := range e.calls {
		if fn.Name == name {
			out = append(out, e.reqs[i])
		}
	}
	return out
}

func (e *echoEngine) Invoke(_ context.Context, fn *engine.Function, req *engine.Request) (*engine.Result, error) {
	e.mu.Lock()
	e.calls = append(e.calls, fn)
	e.reqs = append(e.reqs, req)
	fail := e.failName == fn.Name
	sysErr := e.sysErrs > 0
	if sysErr {
		e.sysErrs--
	}
	e.mu.Unlock()
	if sysErr {
		return nil, fmt.Errorf("create instance: %w", errors.New("engine unreachable"))
	}
	if fn.ReservedConcurrency != nil && *fn.ReservedConcurrency == 0 {
		return nil, engine.ErrThrottled
	}
	out, _ := json.Marshal(map[string]string{"version": fn.Version, "code": fn.CodeSHA256, "invoked": req.InvokedARN, "env": fn.Env["STAGE"]})
	res := &engine.Result{Payload: out, ExecutedVersion: fn.Version}
	if fail {
		res.FunctionError = "Unhandled"
		res.Payload = []byte(`{"errorMessage":"boom","errorType":"Exception"}`)
	}
	return res, nil
}

func (e *echoEngine) Prepull(context.Context, *engine.Function, func(backend.Progress)) error {
	return nil
}
func (e *echoEngine) Evict(context.Context, *engine.Function) (bool, error) { return false, nil }
func (e *echoEngine) Instances() []engine.InstanceInfo                      { return nil }

type echoed struct {
	Version, Code, Invoked, Env string
	Executed                    string
}

func invokeEcho(t *testing.T, c *lambda.Client, name, qualifier string) echoed {
	t.Helper()
	in := &lambda.InvokeInput{FunctionName: aws.String(name)}
	if qualifier != "" {
		in.Qualifier = aws.String(qualifier)
	}
	out, err := c.Invoke(context.Background(), in)
	if err != nil {
		t.Fatalf("Invoke %s:%s: %v", name, qualifier, err)
	}
	var e echoed
	if err := json.Unmarshal(out.Payload, &e); err != nil {
		t.Fatalf("payload %s: %v", out.Payload, err)
	}
	e.Executed = aws.ToString(out.ExecutedVersion)
	return e
}

func TestVersionsFreezeCodeAndAliasesRoute(t *testing.T) {
	eng := &echoEngine{}
	h := newHarness(t, Config{Engine: eng})
	ctx := context.Background()
	name := "frozen"
	_, err := h.client.CreateFunction(ctx, &lambda.CreateFunctionInput{
		FunctionName: aws.String(name), Runtime: types.RuntimePython312, Role: aws.String(testRole),
		Handler: aws.String("handler.handler"), Code: &types.FunctionCode{ZipFile: handlerZip(t, "1")},
		Environment: &types.Environment{Variables: map[string]string{"STAGE": "one"}},
	})
	if err != nil {
		t.Fatal(err)
	}
	waitActive(t, h.client, name)
	v1, err := h.client.PublishVersion(ctx, &lambda.PublishVersionInput{FunctionName: aws.String(name)})
	if err != nil || aws.ToString(v1.Version) != "1" {
		t.Fatalf("PublishVersion: %v %+v", err, v1)
	}
	if _, err := h.client.UpdateFunctionCode(ctx, &lambda.UpdateFunctionCodeInput{FunctionName: aws.String(name), ZipFile: handlerZip(t, "2")}); err != nil {
		t.Fatal(err)
	}
	waitUpdated(t, h.client, name)
	if _, err := h.client.UpdateFunctionConfiguration(ctx, &lambda.UpdateFunctionConfigurationInput{FunctionName: aws.String(name),
		Environment: &types.Environment{Variables: map[string]string{"STAGE": "two"}}}); err != nil {
		t.Fatal(err)
	}
	waitUpdated(t, h.client, name)
	v2, err := h.client.PublishVersion(ctx, &lambda.PublishVersionInput{FunctionName: aws.String(name)})
	if err != nil || aws.ToString(v2.Version) != "2" {
		t.Fatalf("PublishVersion 2: %v %+v", err, v2)
	}
	if aws.ToString(v1.CodeSha256) == aws.ToString(v2.CodeSha256) {
		t.Fatal("versions 1 and 2 should have different code")
	}
	arn := functionArn(scope{Account: testAccount, Region: "us-east-1"}, name)
	for _, tc := range []struct {
		name, qualifier, wantVersion, wantEnv, wantInvoked string
	}{
		{name, "", "$LATEST", "two", arn},
		{name, "$LATEST", "$LATEST", "two", arn + ":$LATEST"},
		{name, "1", "1", "one", arn + ":1"},
		{name, "2", "2", "two", arn + ":2"},
		{arn + ":1", "", "1", "one", arn + ":1"},
		{name + ":2", "", "2", "two", arn + ":2"},
	} {
		got := invokeEcho(t, h.client, tc.name, tc.qualifier)
		if got.Version != tc.wantVersion || got.Executed != tc.wantVersion || got.Env != tc.wantEnv || got.Invoked != tc.wantInvoked {
			t.Errorf("invoke %s (qualifier %q) = %+v, want version %s env %s invoked %s", tc.name, tc.qualifier, got, tc.wantVersion, tc.wantEnv, tc.wantInvoked)
		}
	}
	if a, b := invokeEcho(t, h.client, name, "1").Code, invokeEcho(t, h.client, name, "2").Code; a == b {
		t.Errorf("versions 1 and 2 ran the same code %s", a)
	}

	// An alias sending half its calls to version 2.
	if _, err := h.client.CreateAlias(ctx, &lambda.CreateAliasInput{FunctionName: aws.String(name), Name: aws.String("live"),
		FunctionVersion: aws.String("1"), RoutingConfig: &types.AliasRoutingConfiguration{AdditionalVersionWeights: map[string]float64{"2": 0.5}}}); err != nil {
		t.Fatal(err)
	}
	counts := map[string]int{}
	for range 120 {
		got := invokeEcho(t, h.client, name, "live")
		if got.Invoked != arn+":live" {
			t.Fatalf("invoked ARN %s", got.Invoked)
		}
		counts[got.Executed]++
	}
	// With p=0.5 over 120 calls, fewer than 30 on either side has probability < 1e-7.
	if counts["1"] < 30 || counts["2"] < 30 || counts["1"]+counts["2"] != 120 {
		t.Errorf("weighted alias split %v, want both versions well represented", counts)
	}

	// Unknown alias: AWS's message.
	_, err = h.client.Invoke(ctx, &lambda.InvokeInput{FunctionName: aws.String(name), Qualifier: aws.String("nope")})
	var nf *types.ResourceNotFoundException
	if !errors.As(err, &nf) || aws.ToString(nf.Message) != "Function not found: "+arn+":nope" {
		t.Errorf("unknown alias: %v", err)
	}

	// A version referenced by an alias cannot be deleted; others can.
	_, err = h.client.DeleteFunction(ctx, &lambda.DeleteFunctionInput{FunctionName: aws.String(name), Qualifier: aws.String("2")})
	var conflict *types.ResourceConflictException
	if !errors.As(err, &conflict) {
		t.Errorf("deleting a version an alias routes to: %v", err)
	}
	// Deleting the function forgets versions and aliases; numbering restarts.
	if _, err := h.client.DeleteFunction(ctx, &lambda.DeleteFunctionInput{FunctionName: aws.String(name)}); err != nil {
		t.Fatal(err)
	}
	_, err = h.client.CreateFunction(ctx, &lambda.CreateFunctionInput{
		FunctionName: aws.String(name), Runtime: types.RuntimePython312, Role: aws.String(testRole),
		Handler: aws.String("handler.handler"), Code: &types.FunctionCode{ZipFile: handlerZip(t, "3")}, Publish: true,
	})
	if err != nil {
		t.Fatal(err)
	}
	aliases, err := h.client.ListAliases(ctx, &lambda.ListAliasesInput{FunctionName: aws.String(name)})
	if err != nil || len(aliases.Aliases) != 0 {
		t.Errorf("aliases after re-create: %v %+v", err, aliases)
	}
	vs, err := h.client.ListVersionsByFunction(ctx, &lambda.ListVersionsByFunctionInput{FunctionName: aws.String(name)})
	if err != nil || len(vs.Versions) != 2 || aws.ToString(vs.Versions[1].Version) != "1" {
		t.Errorf("versions after re-create: %v %+v", err, vs)
	}
}

// Provision records provisioned counts per function version.
func (e *echoEngine) Provision(_ context.Context, fn *engine.Function, n int) error {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.provisioned == nil {
		e.provisioned = map[string]int{}
	}
	e.provisioned[fn.Name+":"+fn.Version] = n
	return nil
}

func (e *echoEngine) Unprovision(ctx context.Context, fn *engine.Function) error {
	return e.Provision(ctx, fn, 0)
}

func (e *echoEngine) provisionedOf(key string) int {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.provisioned[key]
}

func TestProvisionedConcurrencyReachesReady(t *testing.T) {
	eng := &echoEngine{}
	h := newHarness(t, Config{Engine: eng})
	ctx := context.Background()
	if _, err := h.client.CreateFunction(ctx, createInput(t, "pc")); err != nil {
		t.Fatal(err)
	}
	waitActive(t, h.client, "pc")
	if _, err := h.client.PublishVersion(ctx, &lambda.PublishVersionInput{FunctionName: aws.String("pc")}); err != nil {
		t.Fatal(err)
	}
	if _, err := h.client.CreateAlias(ctx, &lambda.CreateAliasInput{FunctionName: aws.String("pc"), Name: aws.String("live"), FunctionVersion: aws.String("1")}); err != nil {
		t.Fatal(err)
	}
	put, err := h.client.PutProvisionedConcurrencyConfig(ctx, &lambda.PutProvisionedConcurrencyConfigInput{
		FunctionName: aws.String("pc"), Qualifier: aws.String("live"), ProvisionedConcurrentExecutions: aws.Int32(2)})
	if err != nil || put.Status != types.ProvisionedConcurrencyStatusEnumInProgress {
		t.Fatalf("Put: %v %+v", err, put)
	}
	deadline := time.Now().Add(5 * time.Second)
	for {
		got, err := h.client.GetProvisionedConcurrencyConfig(ctx, &lambda.GetProvisionedConcurrencyConfigInput{FunctionName: aws.String("pc"), Qualifier: aws.String("live")})
		if err != nil {
			t.Fatal(err)
		}
		if got.Status == types.ProvisionedConcurrencyStatusEnumReady {
			if aws.ToInt32(got.AvailableProvisionedConcurrentExecutions) != 2 || aws.ToInt32(got.AllocatedProvisionedConcurrentExecutions) != 2 {
				t.Errorf("READY with counts %+v", got)
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("status %s, want READY", got.Status)
		}
		time.Sleep(5 * time.Millisecond)
	}
	if n := eng.provisionedOf("pc:1"); n != 2 {
		t.Errorf("engine provisioned %d instances of version 1, want 2", n)
	}
	if _, err := h.client.DeleteProvisionedConcurrencyConfig(ctx, &lambda.DeleteProvisionedConcurrencyConfigInput{FunctionName: aws.String("pc"), Qualifier: aws.String("live")}); err != nil {
		t.Fatal(err)
	}
	if n := eng.provisionedOf("pc:1"); n != 0 {
		t.Errorf("after delete the engine keeps %d provisioned", n)
	}
}
