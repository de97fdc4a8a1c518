package template

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"reflect"
	"slices"
	"sort"
	"strings"
	"sync"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/lambda"

	"github.com/lambhq/lamb/api"
	"github.com/lambhq/lamb/store"
)

// memMap is a locked map, what the test stores below keep.
type memMap[V any] struct {
	mu sync.Mutex
	m  map[string]V
}

func newMemMap[V any]() memMap[V] { return memMap[V]{m: map[string]V{}} }

func (s *memMap[V]) get(k string) (V, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	v, ok := s.m[k]
	return v, ok
}

func (s *memMap[V]) values() []V {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []V
	for _, v := range s.m {
		out = append(out, v)
	}
	return out
}

func (s *memMap[V]) put(k string, v V) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.m[k] = v
}

func (s *memMap[V]) del(k string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.m, k)
}

// memStacks keeps stacks in memory.
type memStacks struct{ memMap[*Stack] }

func (s *memStacks) Get(_ context.Context, name string) (*Stack, error) {
	if st, ok := s.get(name); ok {
		return st, nil
	}
	return nil, fmt.Errorf("stack %s: %w", name, ErrNoStack)
}

func (s *memStacks) List(context.Context) ([]*Stack, error) { return s.values(), nil }

func (s *memStacks) Put(_ context.Context, st *Stack) error {
	s.put(st.Name, st)
	return nil
}

func (s *memStacks) Delete(_ context.Context, name string) error {
	s.del(name)
	return nil
}

// testLamb is lamb's API in process (no engine: nothing runs) and a
// deployer for it.
func testLamb(t *testing.T) (*Deployer, *lambda.Client, *strings.Builder) {
	t.Helper()
	srv := api.New(api.Config{Store: store.NewMemory()})
	ts := httptest.NewServer(srv)
	t.Cleanup(func() {
		ts.Close()
		_ = srv.Close(context.Background())
	})
	c := lambda.New(lambda.Options{Region: "us-east-1", BaseEndpoint: aws.String(ts.URL), Credentials: aws.AnonymousCredentials{}, RetryMaxAttempts: 1})
	out := &strings.Builder{}
	get := func(ctx context.Context, url string) ([]byte, error) {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
		if err != nil {
			return nil, err
		}
		resp, err := ts.Client().Do(req)
		if err != nil {
			return nil, err
		}
		defer resp.Body.Close()
		return io.ReadAll(resp.Body)
	}
	return &Deployer{Lambda: c, Stacks: &memStacks{newMemMap[*Stack]()}, Out: out, HTTPGet: get}, c, out
}

func functionNames(t *testing.T, c *lambda.Client) []string {
	t.Helper()
	out, err := c.ListFunctions(context.Background(), &lambda.ListFunctionsInput{})
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, f := range out.Functions {
		names = append(names, aws.ToString(f.FunctionName))
	}
	sort.Strings(names)
	return names
}

func deployYAML(t *testing.T, d *Deployer, stack, src string) (*Stack, error) {
	t.Helper()
	tmpl, err := Parse([]byte(src), false)
	if err != nil {
		t.Fatal(err)
	}
	tmpl.Dir = t.TempDir()
	return d.Deploy(context.Background(), tmpl, Options{StackName: stack, AccountID: "000000000000", Region: "us-east-1"})
}

const fnYAML = `  %s:
    Type: AWS::Serverless::Function
    Properties:
      InlineCode: 'def handler(e, c): return "%s"'
      Handler: index.handler
      Runtime: %s
`

// inlineFn is a SAM function Fn with inline code; tests append properties.
const inlineFn = `  Fn:
    Type: AWS::Serverless::Function
    Properties:
      InlineCode: "def handler(e, c): return 1"
      Handler: index.handler
      Runtime: python3.12
`

func samTemplate(fns ...string) string {
	return "Transform: AWS::Serverless-2016-10-31\nResources:\n" + strings.Join(fns, "")
}

// A deploy that fails part way deletes what it created and gives what it
// updated its previous configuration back.
func TestDeployRollsBack(t *testing.T) {
	d, c, out := testLamb(t)
	ctx := context.Background()
	if _, err := deployYAML(t, d, "app", samTemplate(fmt.Sprintf(fnYAML, "A", "a1", "python3.12"))); err != nil {
		t.Fatal(err)
	}
	before, err := c.GetFunctionConfiguration(ctx, &lambda.GetFunctionConfigurationInput{FunctionName: aws.String("app-A")})
	if err != nil {
		t.Fatal(err)
	}
	// A changes, B is new, C has a runtime the API refuses (after A and B,
	// in logical id order).
	_, err = deployYAML(t, d, "app", samTemplate(
		fmt.Sprintf(fnYAML, "A", "a2", "python3.12"),
		fmt.Sprintf(fnYAML, "B", "b", "python3.12"),
		fmt.Sprintf(fnYAML, "C", "c", "python0.1")))
	var te *Error
	if !errors.As(err, &te) || te.Name != "C" || te.Property != "Properties.Runtime" {
		t.Fatalf("error %v, want one about resource C, property Properties.Runtime", err)
	}
	if got := functionNames(t, c); len(got) != 1 || got[0] != "app-A" {
		t.Errorf("functions after the failed deploy = %v, want [app-A]", got)
	}
	after, err := c.GetFunctionConfiguration(ctx, &lambda.GetFunctionConfigurationInput{FunctionName: aws.String("app-A")})
	if err != nil {
		t.Fatal(err)
	}
	if aws.ToString(after.CodeSha256) != aws.ToString(before.CodeSha256) {
		t.Errorf("app-A's CodeSha256 is %s after the rollback, was %s", aws.ToString(after.CodeSha256), aws.ToString(before.CodeSha256))
	}
	if !strings.Contains(out.String(), "rolled back 2 change(s)") {
		t.Errorf("output:\n%s", out)
	}
	st, err := d.Stacks.Get(ctx, "app")
	if err != nil || len(st.Resources) != 1 {
		t.Errorf("stack after the failed deploy: %+v, %v", st, err)
	}
}

// A redeploy deletes what the template no longer has and leaves the rest.
func TestRedeployRemoves(t *testing.T) {
	d, c, out := testLamb(t)
	if _, err := deployYAML(t, d, "app", samTemplate(fmt.Sprintf(fnYAML, "A", "a", "python3.12"), fmt.Sprintf(fnYAML, "B", "b", "nodejs20.x"))); err != nil {
		t.Fatal(err)
	}
	out.Reset()
	st, err := deployYAML(t, d, "app", samTemplate(fmt.Sprintf(fnYAML, "A", "a", "python3.12")))
	if err != nil {
		t.Fatal(err)
	}
	if got := functionNames(t, c); len(got) != 1 || got[0] != "app-A" {
		t.Errorf("functions = %v, want [app-A]", got)
	}
	if !strings.Contains(out.String(), "unchanged AWS::Serverless::Function") || !strings.Contains(out.String(), "delete    AWS::Serverless::Function          B") {
		t.Errorf("output:\n%s", out)
	}
	if len(st.Resources) != 1 {
		t.Errorf("stack resources = %d, want 1", len(st.Resources))
	}
}

// Fn::ImportValue reads another stack's exports, and a stack whose export
// is imported cannot be deleted or drop the export.
func TestImportValue(t *testing.T) {
	d, c, _ := testLamb(t)
	ctx := context.Background()
	exporter := samTemplate(fmt.Sprintf(fnYAML, "A", "a", "python3.12")) + "Outputs:\n  Arn:\n    Value: !GetAtt A.Arn\n    Export: {Name: shared-arn}\n"
	if _, err := deployYAML(t, d, "base", exporter); err != nil {
		t.Fatal(err)
	}
	importer := "Resources:\n  Perm:\n    Type: AWS::Lambda::Permission\n    Properties:\n      FunctionName: !ImportValue shared-arn\n      Action: lambda:InvokeFunction\n      Principal: s3.amazonaws.com\n"
	if _, err := deployYAML(t, d, "user", importer); err != nil {
		t.Fatal(err)
	}
	pol, err := c.GetPolicy(ctx, &lambda.GetPolicyInput{FunctionName: aws.String("base-A")})
	if err != nil || !strings.Contains(aws.ToString(pol.Policy), "user-Perm") {
		t.Errorf("base-A's policy = %v, %v; want statement user-Perm", pol, err)
	}
	if err := d.Delete(ctx, "base"); err == nil || !strings.Contains(err.Error(), "which stack user imports") {
		t.Errorf("deleting the exporting stack: %v", err)
	}
	if _, err := deployYAML(t, d, "base", samTemplate(fmt.Sprintf(fnYAML, "A", "a", "python3.12"))); err == nil || !strings.Contains(err.Error(), "export shared-arn is imported by stack user") {
		t.Errorf("dropping the export: %v", err)
	}
	if err := d.Delete(ctx, "user"); err != nil {
		t.Fatal(err)
	}
	if err := d.Delete(ctx, "base"); err != nil {
		t.Fatal(err)
	}
	if got := functionNames(t, c); len(got) != 0 {
		t.Errorf("functions after deleting both stacks = %v", got)
	}
}

// A SAM function's generated resources follow its template: the alias, URL,
// event invoke config, reserved concurrency, tags and mappings are made, and
// removed again when the template drops them.
func TestSAMFunctionExtras(t *testing.T) {
	d, c, _ := testLamb(t)
	ctx := context.Background()
	full := samTemplate(inlineFn + `      AutoPublishAlias: live
      ReservedConcurrentExecutions: 3
      Tags: {team: lamb}
      FunctionUrlConfig:
        AuthType: NONE
        Cors: {AllowOrigins: ["*"], MaxAge: 60}
      EventInvokeConfig:
        MaximumRetryAttempts: 1
      Events:
        Stream:
          Type: Kinesis
          Properties:
            Stream: arn:aws:kinesis:us-east-1:000000000000:stream/s
            StartingPosition: LATEST
            BatchSize: 7
        Cron:
          Type: Schedule
          Properties:
            Schedule: rate(1 minute)
`)
	st, err := deployYAML(t, d, "x", full)
	if err != nil {
		t.Fatal(err)
	}
	fn := aws.String("x-Fn")
	alias, err := c.GetAlias(ctx, &lambda.GetAliasInput{FunctionName: fn, Name: aws.String("live")})
	if err != nil || aws.ToString(alias.FunctionVersion) != "1" {
		t.Fatalf("alias: %v, %v", alias, err)
	}
	u, err := c.GetFunctionUrlConfig(ctx, &lambda.GetFunctionUrlConfigInput{FunctionName: fn, Qualifier: aws.String("live")})
	if err != nil || u.Cors == nil || aws.ToInt32(u.Cors.MaxAge) != 60 {
		t.Errorf("URL on the alias: %+v, %v", u, err)
	}
	eic, err := c.GetFunctionEventInvokeConfig(ctx, &lambda.GetFunctionEventInvokeConfigInput{FunctionName: fn, Qualifier: aws.String("live")})
	if err != nil || aws.ToInt32(eic.MaximumRetryAttempts) != 1 {
		t.Errorf("event invoke config on the alias: %+v, %v", eic, err)
	}
	conc, err := c.GetFunctionConcurrency(ctx, &lambda.GetFunctionConcurrencyInput{FunctionName: fn})
	if err != nil || aws.ToInt32(conc.ReservedConcurrentExecutions) != 3 {
		t.Errorf("reserved concurrency: %+v, %v", conc, err)
	}
	tags, err := c.ListTags(ctx, &lambda.ListTagsInput{Resource: aws.String("arn:aws:lambda:us-east-1:000000000000:function:x-Fn")})
	if err != nil || tags.Tags["team"] != "lamb" {
		t.Errorf("tags: %+v, %v", tags, err)
	}
	esms, err := c.ListEventSourceMappings(ctx, &lambda.ListEventSourceMappingsInput{})
	if err != nil || len(esms.EventSourceMappings) != 1 || aws.ToInt32(esms.EventSourceMappings[0].BatchSize) != 7 ||
		!strings.HasSuffix(aws.ToString(esms.EventSourceMappings[0].FunctionArn), ":x-Fn:live") {
		t.Errorf("mappings: %+v, %v", esms, err)
	}
	var gen []string
	for _, g := range st.Resources[0].Generated {
		gen = append(gen, g.LogicalID+" "+g.Status)
	}
	want := []string{"FnVersion deployed", "FnAliaslive deployed", "FnUrl deployed", "FnEventInvokeConfig deployed", "FnStream deployed", "FnCron skipped", "FnRole skipped"}
	if strings.Join(gen, ",") != strings.Join(want, ",") {
		t.Errorf("generated = %v, want %v", gen, want)
	}

	bare := samTemplate(inlineFn)
	if _, err := deployYAML(t, d, "x", bare); err != nil {
		t.Fatal(err)
	}
	if _, err := c.GetAlias(ctx, &lambda.GetAliasInput{FunctionName: fn, Name: aws.String("live")}); err == nil {
		t.Error("the alias is still there")
	}
	if _, err := c.GetFunctionUrlConfig(ctx, &lambda.GetFunctionUrlConfigInput{FunctionName: fn, Qualifier: aws.String("live")}); err == nil {
		t.Error("the URL is still there")
	}
	if esms, _ := c.ListEventSourceMappings(ctx, &lambda.ListEventSourceMappingsInput{}); len(esms.EventSourceMappings) != 0 {
		t.Errorf("mappings are still there: %+v", esms.EventSourceMappings)
	}
	if conc, _ := c.GetFunctionConcurrency(ctx, &lambda.GetFunctionConcurrencyInput{FunctionName: fn}); conc != nil && conc.ReservedConcurrentExecutions != nil {
		t.Errorf("reserved concurrency is still %d", *conc.ReservedConcurrentExecutions)
	}
	if tags, _ := c.ListTags(ctx, &lambda.ListTagsInput{Resource: aws.String("arn:aws:lambda:us-east-1:000000000000:function:x-Fn")}); len(tags.Tags) != 0 {
		t.Errorf("tags are still %v", tags.Tags)
	}
}

// env.json replaces the variables a function declares, per logical id and
// for all functions ("Parameters"), and adds none.
func TestEnvVars(t *testing.T) {
	d, c, _ := testLamb(t)
	tmpl, err := Parse([]byte(samTemplate(inlineFn+`      Environment:
        Variables: {A: template, B: template, C: template}
`)), false)
	if err != nil {
		t.Fatal(err)
	}
	env := map[string]map[string]string{"Parameters": {"A": "all", "B": "all", "NEW": "all"}, "Fn": {"B": "fn"}}
	if _, err := d.Deploy(context.Background(), tmpl, Options{StackName: "e", AccountID: "000000000000", Region: "us-east-1", EnvVars: env}); err != nil {
		t.Fatal(err)
	}
	cfg, err := c.GetFunctionConfiguration(context.Background(), &lambda.GetFunctionConfigurationInput{FunctionName: aws.String("e-Fn")})
	if err != nil {
		t.Fatal(err)
	}
	got := cfg.Environment.Variables
	if len(got) != 3 || got["A"] != "all" || got["B"] != "fn" || got["C"] != "template" {
		t.Errorf("environment = %v, want A=all B=fn C=template", got)
	}
}

// memSchedules records schedules.
type memSchedules struct{ memMap[Schedule] }

func (s *memSchedules) PutSchedule(_ context.Context, sc Schedule) error {
	s.put(sc.Name, sc)
	return nil
}

func (s *memSchedules) DeleteSchedule(_ context.Context, name string) error {
	s.del(name)
	return nil
}

// Schedule and ScheduleV2 events become schedules on the function (its
// alias), and go with the event.
func TestScheduleEvents(t *testing.T) {
	d, _, _ := testLamb(t)
	sched := &memSchedules{newMemMap[Schedule]()}
	d.Schedules = sched
	fn := inlineFn + `      AutoPublishAlias: live
`
	events := `      Events:
        Tick:
          Type: Schedule
          Properties: {Schedule: rate(5 minutes), Input: '{"k": 1}'}
        Nightly:
          Type: ScheduleV2
          Properties: {ScheduleExpression: "cron(0 2 * * ? *)", State: DISABLED}
`
	st, err := deployYAML(t, d, "s", samTemplate(fn+events))
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]Schedule{
		"s-FnTick":    {Name: "s-FnTick", Function: "arn:aws:lambda:us-east-1:000000000000:function:s-Fn:live", Expression: "rate(5 minutes)", Input: `{"k": 1}`, Enabled: true},
		"s-FnNightly": {Name: "s-FnNightly", Function: "arn:aws:lambda:us-east-1:000000000000:function:s-Fn:live", Expression: "cron(0 2 * * ? *)"},
	}
	if !reflect.DeepEqual(sched.m, want) {
		t.Errorf("schedules = %+v\nwant %+v", sched.m, want)
	}
	var gen []string
	for _, g := range st.Resources[0].Generated {
		gen = append(gen, g.LogicalID+" "+g.Type)
	}
	if !slices.Contains(gen, "FnTick AWS::Events::Rule") || !slices.Contains(gen, "FnNightly AWS::Scheduler::Schedule") {
		t.Errorf("generated = %v", gen)
	}
	if _, err := deployYAML(t, d, "s", samTemplate(fn)); err != nil {
		t.Fatal(err)
	}
	if len(sched.m) != 0 {
		t.Errorf("schedules after dropping the events: %v", sched.m)
	}
	if _, err := deployYAML(t, d, "s", samTemplate(fn+"      Events:\n        Bad:\n          Type: Schedule\n          Properties: {Schedule: every day}\n")); err == nil ||
		!strings.Contains(err.Error(), "resource Fn, property Properties.Events.Bad.Properties.Schedule") {
		t.Errorf("a bad schedule: %v", err)
	}
}

// An Image function deploys from its ImageUri, and provisioned concurrency
// goes on its alias.
func TestImageFunctionAndProvisioned(t *testing.T) {
	d, c, _ := testLamb(t)
	ctx := context.Background()
	_, err := deployYAML(t, d, "img", samTemplate(`  Fn:
    Type: AWS::Serverless::Function
    Properties:
      PackageType: Image
      ImageUri: public.ecr.aws/lambda/python:3.12
      ImageConfig: {Command: [app.handler]}
      AutoPublishAlias: live
      ProvisionedConcurrencyConfig:
        ProvisionedConcurrentExecutions: 2
`))
	if err != nil {
		t.Fatal(err)
	}
	fn, err := c.GetFunction(ctx, &lambda.GetFunctionInput{FunctionName: aws.String("img-Fn")})
	if err != nil {
		t.Fatal(err)
	}
	if fn.Configuration.PackageType != "Image" || aws.ToString(fn.Code.ImageUri) != "public.ecr.aws/lambda/python:3.12" ||
		fn.Configuration.ImageConfigResponse == nil || fn.Configuration.ImageConfigResponse.ImageConfig.Command[0] != "app.handler" {
		t.Errorf("function = %+v, code %+v", fn.Configuration, fn.Code)
	}
	pc, err := c.GetProvisionedConcurrencyConfig(ctx, &lambda.GetProvisionedConcurrencyConfigInput{FunctionName: aws.String("img-Fn"), Qualifier: aws.String("live")})
	if err != nil || aws.ToInt32(pc.RequestedProvisionedConcurrentExecutions) != 2 {
		t.Errorf("provisioned concurrency on live: %+v, %v", pc, err)
	}
}

// A function deleted behind the stack's back is created again by the next
// deploy, though the template did not change.
func TestRedeployRecreatesDeleted(t *testing.T) {
	d, c, out := testLamb(t)
	tmpl := samTemplate(fmt.Sprintf(fnYAML, "A", "a", "python3.12"))
	if _, err := deployYAML(t, d, "app", tmpl); err != nil {
		t.Fatal(err)
	}
	if _, err := c.DeleteFunction(context.Background(), &lambda.DeleteFunctionInput{FunctionName: aws.String("app-A")}); err != nil {
		t.Fatal(err)
	}
	if _, err := deployYAML(t, d, "app", tmpl); err != nil {
		t.Fatal(err)
	}
	if got := functionNames(t, c); len(got) != 1 || got[0] != "app-A" {
		t.Errorf("functions = %v, want [app-A]\n%s", got, out)
	}
}
