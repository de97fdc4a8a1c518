package api

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	"github.com/aws/aws-sdk-go-v2/service/lambda/types"
	"github.com/lambhq/lamb/store"
)

func createBody(t *testing.T, name string) string {
	zip := base64.StdEncoding.EncodeToString(handlerZip(t, "1"))
	return fmt.Sprintf(`{"FunctionName":%q,"Runtime":"python3.12","Role":%q,"Handler":"handler.handler","Code":{"ZipFile":%q}}`, name, testRole, zip)
}

func TestUnsignedRequestsUseDefaults(t *testing.T) {
	h := newHarness(t, Config{AccountID: "123456789012", Region: "eu-central-1"})
	rr := h.raw("POST", "/2015-03-31/functions", createBody(t, "unsigned"), nil)
	if rr.status != 201 {
		t.Fatalf("create: %d %s", rr.status, rr.body)
	}
	var cfg map[string]any
	if err := json.Unmarshal(rr.body, &cfg); err != nil {
		t.Fatal(err)
	}
	if got, want := cfg["FunctionArn"], "arn:aws:lambda:eu-central-1:123456789012:function:unsigned"; got != want {
		t.Fatalf("FunctionArn = %v, want %v", got, want)
	}
	// Visible to a signed client of the same account and region only.
	if _, err := h.clientFor("123456789012", "eu-central-1").GetFunction(context.Background(), &lambda.GetFunctionInput{FunctionName: aws.String("unsigned")}); err != nil {
		t.Fatalf("same account/region: %v", err)
	}
}

func TestAccountsAndRegionsAreIsolated(t *testing.T) {
	h := newHarness(t, Config{})
	ctx := context.Background()
	if _, err := h.client.CreateFunction(ctx, createInput(t, "iso")); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct{ account, region string }{{testAccount, "eu-west-1"}, {"222222222222", "us-east-1"}} {
		cl := h.clientFor(c.account, c.region)
		_, err := cl.GetFunction(ctx, &lambda.GetFunctionInput{FunctionName: aws.String("iso")})
		var nf *types.ResourceNotFoundException
		if !errors.As(err, &nf) {
			t.Fatalf("%s/%s: want ResourceNotFoundException, got %v", c.account, c.region, err)
		}
		out, err := cl.ListFunctions(ctx, &lambda.ListFunctionsInput{})
		if err != nil || len(out.Functions) != 0 {
			t.Fatalf("%s/%s: ListFunctions = %v, %v", c.account, c.region, out, err)
		}
		// The same name can exist there independently.
		in := createInput(t, "iso")
		in.Role = aws.String("arn:aws:iam::" + c.account + ":role/lambda-role") // its own account's role
		if _, err := cl.CreateFunction(ctx, in); err != nil {
			t.Fatalf("%s/%s: create same name: %v", c.account, c.region, err)
		}
	}
}

// TestCrossAccountPassRole: a caller whose account comes from its credentials
// may not pass another account's role (AWS: 403 AccessDeniedException, moto's
// CrossAccountNotAllowed carries AWS's message); an unsigned caller, in the
// default account, is not checked.
func TestCrossAccountPassRole(t *testing.T) {
	h := newHarness(t, Config{AccountID: "000000000000"})
	ctx := context.Background()
	other := aws.String("arn:aws:iam::999999999999:role/lambda-role")
	in := createInput(t, "xacct")
	in.Role = other
	_, err := h.client.CreateFunction(ctx, in)
	rr := h.rec.lastResponse() // AccessDeniedException is not modelled for CreateFunction: read the raw answer
	if err == nil || rr.status != 403 || !strings.Contains(string(rr.body), "Cross-account pass role is not allowed.") {
		t.Fatalf("CreateFunction with another account's role: %v (%d %s); want 403 Cross-account pass role is not allowed.", err, rr.status, rr.body)
	}
	in.Role = aws.String("arn:aws:iam::" + testAccount + ":role/lambda-role")
	if _, err := h.client.CreateFunction(ctx, in); err != nil {
		t.Fatal(err)
	}
	_, err = h.client.UpdateFunctionConfiguration(ctx, &lambda.UpdateFunctionConfigurationInput{FunctionName: aws.String("xacct"), Role: other})
	if rr := h.rec.lastResponse(); err == nil || rr.status != 403 {
		t.Fatalf("UpdateFunctionConfiguration with another account's role: %v (%d)", err, rr.status)
	}
	unsigned := `{"FunctionName":"xacct-unsigned","Runtime":"python3.12","Handler":"h.h","Role":"arn:aws:iam::999999999999:role/r","Code":{"ZipFile":"` +
		base64.StdEncoding.EncodeToString(zipOf(t, map[string]string{"h.py": "def h(e, c):\n    return e\n"})) + `"}}`
	if rr := h.raw("POST", "/2015-03-31/functions", unsigned, nil); rr.status != 201 {
		t.Fatalf("unsigned CreateFunction with any role: %d %s; want 201", rr.status, rr.body)
	}
}

func TestMalformedBodiesAreRefusedAndServerKeepsServing(t *testing.T) {
	h := newHarness(t, Config{})
	auth := sigv4(testAccount, "us-east-1")
	for _, body := range []string{`{`, `not json`, `{"FunctionName": 5}`, `{"Code":{"ZipFile":"%%%not-base64"}}`, `[1,2]`, "\x00\xff"} {
		rr := h.raw("POST", "/2015-03-31/functions", body, auth)
		if rr.status != 400 || rr.header.Get("X-Amzn-ErrorType") == "" {
			t.Fatalf("body %q: %d %s %s", body, rr.status, rr.header.Get("X-Amzn-ErrorType"), rr.body)
		}
		var e map[string]any
		if err := json.Unmarshal(rr.body, &e); err != nil || (e["message"] == nil && e["Message"] == nil) {
			t.Fatalf("body %q: error body %s", body, rr.body)
		}
	}
	// Still serving.
	if rr := h.raw("POST", "/2015-03-31/functions", createBody(t, "after"), auth); rr.status != 201 {
		t.Fatalf("create after bad input: %d %s", rr.status, rr.body)
	}
}

func TestFunctionAddressing(t *testing.T) {
	h := newHarness(t, Config{})
	ctx := context.Background()
	if _, err := h.client.CreateFunction(ctx, createInput(t, "addr")); err != nil {
		t.Fatal(err)
	}
	arn := "arn:aws:lambda:us-east-1:111111111111:function:addr"
	for _, name := range []string{"addr", arn, "111111111111:function:addr", "addr:$LATEST", arn + ":$LATEST"} {
		out, err := h.client.GetFunctionConfiguration(ctx, &lambda.GetFunctionConfigurationInput{FunctionName: aws.String(name)})
		want := arn
		if strings.HasSuffix(name, ":$LATEST") {
			want += ":$LATEST" // AWS shows the qualifier the caller addressed
		}
		if err != nil || *out.FunctionArn != want {
			t.Fatalf("%s: %v %v", name, out, err)
		}
	}
	// Raw URL-encoded ARN, as clients send it in the label.
	rr := h.raw("GET", "/2015-03-31/functions/"+url.PathEscape(arn)+"/configuration", "", sigv4(testAccount, "us-east-1"))
	if rr.status != 200 || !strings.Contains(string(rr.body), `"FunctionName":"addr"`) {
		t.Fatalf("encoded ARN: %d %s", rr.status, rr.body)
	}
	rr = h.raw("GET", "/2015-03-31/functions/arn%3Aaws%3Alambda%3Aus-east-1%3A111111111111%3Afunction%3Aaddr?Qualifier=%24LATEST", "", sigv4(testAccount, "us-east-1"))
	if rr.status != 200 {
		t.Fatalf("encoded ARN with Qualifier: %d %s", rr.status, rr.body)
	}
}

func TestConcurrentCreateOneWins(t *testing.T) {
	h := newHarness(t, Config{})
	const n = 8
	var wg sync.WaitGroup
	codes := make(chan int, n)
	body := createBody(t, "race")
	for range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			req, _ := http.NewRequest("POST", h.ts.URL+"/2015-03-31/functions", strings.NewReader(body))
			resp, err := h.ts.Client().Do(req)
			if err != nil {
				codes <- -1
				return
			}
			_, _ = io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			codes <- resp.StatusCode
		}()
	}
	wg.Wait()
	close(codes)
	count := map[int]int{}
	for c := range codes {
		count[c]++
	}
	if count[201] != 1 || count[409] != n-1 {
		t.Fatalf("status counts = %v, want one 201 and %d 409", count, n-1)
	}
}

// createActive creates function name (createInput) and waits until it is
// Active.
func (h *harness) createActive(name string) {
	h.t.Helper()
	if _, err := h.client.CreateFunction(context.Background(), createInput(h.t, name)); err != nil {
		h.t.Fatal(err)
	}
	waitActive(h.t, h.client, name)
}

func TestConcurrentUpdatesAndReads(t *testing.T) {
	h := newHarness(t, Config{})
	ctx := context.Background()
	h.createActive("busy")
	var wg sync.WaitGroup
	errs := make(chan error, 40)
	for i := range 20 {
		wg.Add(2)
		go func() {
			defer wg.Done()
			_, err := h.client.UpdateFunctionConfiguration(ctx, &lambda.UpdateFunctionConfigurationInput{FunctionName: aws.String("busy"), Description: aws.String(fmt.Sprint(i))})
			var conflict *types.ResourceConflictException
			if err != nil && !errors.As(err, &conflict) {
				errs <- err
			}
		}()
		go func() {
			defer wg.Done()
			if _, err := h.client.ListFunctions(ctx, &lambda.ListFunctionsInput{}); err != nil {
				errs <- err
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
}

func TestRevisionIDPrecondition(t *testing.T) {
	h := newHarness(t, Config{})
	ctx := context.Background()
	h.createActive("rev")
	_, err := h.client.UpdateFunctionConfiguration(ctx, &lambda.UpdateFunctionConfigurationInput{FunctionName: aws.String("rev"), RevisionId: aws.String("wrong"), Timeout: aws.Int32(9)})
	var pf *types.PreconditionFailedException
	if !errors.As(err, &pf) {
		t.Fatalf("want PreconditionFailedException, got %v", err)
	}
	cur, err := h.client.GetFunctionConfiguration(ctx, &lambda.GetFunctionConfigurationInput{FunctionName: aws.String("rev")})
	if err != nil {
		t.Fatal(err)
	}
	out, err := h.client.UpdateFunctionCode(ctx, &lambda.UpdateFunctionCodeInput{FunctionName: aws.String("rev"), RevisionId: cur.RevisionId, ZipFile: handlerZip(t, "3"), DryRun: true})
	if err != nil {
		t.Fatal(err)
	}
	after, _ := h.client.GetFunctionConfiguration(ctx, &lambda.GetFunctionConfigurationInput{FunctionName: aws.String("rev")})
	if *after.CodeSha256 != *cur.CodeSha256 || *out.CodeSha256 == *cur.CodeSha256 {
		t.Fatalf("DryRun changed the function or did not report the new code")
	}
}

func TestPrepareOutcomeDrivesState(t *testing.T) {
	release := make(chan struct{})
	var calls sync.Map
	h := newHarness(t, Config{Prepare: func(ctx context.Context, fn FunctionInfo) error {
		calls.Store(fn.Name, fn)
		if fn.Name == "broken" {
			return errors.New("image not found: nope")
		}
		select {
		case <-release:
		case <-ctx.Done():
			return ctx.Err()
		}
		return nil
	}})
	ctx := context.Background()
	if _, err := h.client.CreateFunction(ctx, createInput(t, "slow")); err != nil {
		t.Fatal(err)
	}
	got, err := h.client.GetFunction(ctx, &lambda.GetFunctionInput{FunctionName: aws.String("slow")})
	if err != nil || got.Configuration.State != types.StatePending {
		t.Fatalf("before Prepare returns: %v %v", got.Configuration.State, err)
	}
	close(release)
	waitActive(t, h.client, "slow")
	v, _ := calls.Load("slow")
	if fi := v.(FunctionInfo); fi.CodeSHA256 == "" || fi.Runtime != "python3.12" || fi.FunctionArn != "arn:aws:lambda:us-east-1:111111111111:function:slow" {
		t.Fatalf("FunctionInfo = %+v", fi)
	}

	if _, err := h.client.CreateFunction(ctx, createInput(t, "broken")); err != nil {
		t.Fatal(err)
	}
	w := lambda.NewFunctionActiveV2Waiter(h.client, func(o *lambda.FunctionActiveV2WaiterOptions) {
		o.MinDelay, o.MaxDelay = 10*time.Millisecond, 20*time.Millisecond
	})
	if err := w.Wait(ctx, &lambda.GetFunctionInput{FunctionName: aws.String("broken")}, 5*time.Second); err == nil {
		t.Fatal("waiter succeeded for a failed function")
	}
	cfg, _ := h.client.GetFunctionConfiguration(ctx, &lambda.GetFunctionConfigurationInput{FunctionName: aws.String("broken")})
	if cfg.State != types.StateFailed || aws.ToString(cfg.StateReason) != "image not found: nope" {
		t.Fatalf("state %v reason %v", cfg.State, aws.ToString(cfg.StateReason))
	}
}

func TestCloseCancelsPrepare(t *testing.T) {
	started := make(chan struct{})
	h := newHarness(t, Config{Prepare: func(ctx context.Context, fn FunctionInfo) error {
		close(started)
		<-ctx.Done()
		return ctx.Err()
	}})
	if _, err := h.client.CreateFunction(context.Background(), createInput(t, "p")); err != nil {
		t.Fatal(err)
	}
	<-started
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := h.srv.Close(ctx); err != nil {
		t.Fatal(err)
	}
}

func TestHealthAndCodeDownload(t *testing.T) {
	h := newHarness(t, Config{Version: "1.2.3", BackendName: "process"})
	rr := h.raw("GET", "/_lamb/health", "", nil)
	var health map[string]string
	if err := json.Unmarshal(rr.body, &health); err != nil || rr.status != 200 || health["status"] != "ok" || health["version"] != "1.2.3" || health["backend"] != "process" {
		t.Fatalf("health: %d %s", rr.status, rr.body)
	}
	zip := handlerZip(t, "42")
	in := createInput(t, "dl")
	in.Code.ZipFile = zip
	ctx := context.Background()
	if _, err := h.client.CreateFunction(ctx, in); err != nil {
		t.Fatal(err)
	}
	out, err := h.client.GetFunction(ctx, &lambda.GetFunctionInput{FunctionName: aws.String("dl")})
	if err != nil {
		t.Fatal(err)
	}
	loc := aws.ToString(out.Code.Location)
	if !strings.HasPrefix(loc, h.ts.URL+"/_lamb/code/") {
		t.Fatalf("Location %q is not on the server the client used (%s)", loc, h.ts.URL)
	}
	resp, err := http.Get(loc)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	got, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != 200 || string(got) != string(zip) {
		t.Fatalf("download: %d, %d bytes (want %d)", resp.StatusCode, len(got), len(zip))
	}
}

func TestListFunctionsPaginates(t *testing.T) {
	h := newHarness(t, Config{})
	ctx := context.Background()
	for i := range 5 {
		if _, err := h.client.CreateFunction(ctx, createInput(t, fmt.Sprintf("page-%d", i))); err != nil {
			t.Fatal(err)
		}
	}
	var names []string
	p := lambda.NewListFunctionsPaginator(h.client, &lambda.ListFunctionsInput{MaxItems: aws.Int32(2)})
	pages := 0
	for p.HasMorePages() {
		out, err := p.NextPage(ctx)
		if err != nil {
			t.Fatal(err)
		}
		pages++
		for _, f := range out.Functions {
			names = append(names, *f.FunctionName)
		}
	}
	if pages != 3 || strings.Join(names, ",") != "page-0,page-1,page-2,page-3,page-4" {
		t.Fatalf("pages=%d names=%v", pages, names)
	}
	all, err := h.client.ListFunctions(ctx, &lambda.ListFunctionsInput{FunctionVersion: types.FunctionVersionAll})
	if err != nil || !strings.HasSuffix(*all.Functions[0].FunctionArn, ":$LATEST") {
		t.Fatalf("FunctionVersion=ALL: %v", err)
	}
}

func TestNotImplementedOperationIsClear(t *testing.T) {
	// Every operation of today's model has a handler; an operation a newer
	// model adds gets notImplemented until one is written.
	rec := httptest.NewRecorder()
	op := &operation{Name: "SomeFutureOperation", Method: "GET", URI: "/2099-01-01/future"}
	writeError(rec, notImplemented(rec, httptest.NewRequest("GET", "/2099-01-01/future", nil), &call{Op: op}))
	if rec.Code != 501 || rec.Header().Get("X-Amzn-ErrorType") != "ServiceException" || !strings.Contains(rec.Body.String(), "SomeFutureOperation") {
		t.Fatalf("want 501 ServiceException naming SomeFutureOperation, got %d %s", rec.Code, rec.Body)
	}
}

// TestPendingFunctionResumesAfterRestart: a server stopped while Prepare ran
// leaves the function Pending in the store; a new server on the same store
// finishes the job when the function is read.
func TestPendingFunctionResumesAfterRestart(t *testing.T) {
	st := store.NewMemory()
	started := make(chan struct{})
	first := New(Config{Store: st, Prepare: func(ctx context.Context, fn FunctionInfo) error {
		close(started)
		<-ctx.Done()
		return ctx.Err()
	}})
	rec := httptest.NewRecorder()
	req := httptest.NewRequest("POST", "/2015-03-31/functions", strings.NewReader(createBody(t, "resume")))
	req.Host = "127.0.0.1:3001"
	first.ServeHTTP(rec, req)
	if rec.Code != 201 {
		t.Fatalf("create: %d %s", rec.Code, rec.Body)
	}
	<-started
	if err := first.Close(context.Background()); err != nil {
		t.Fatal(err)
	}
	h := newHarness(t, Config{Store: st})
	cl := h.clientFor("000000000000", "us-east-1")
	waitActive(t, cl, "resume")
}

// TestDurableStoreSurvivesRestart runs a function and a layer through a
// server on the bbolt store, reopens the store in a new server and reads them.
func TestDurableStoreSurvivesRestart(t *testing.T) {
	dir := t.TempDir()
	ctx := context.Background()
	st, err := store.Open(ctx, dir)
	if err != nil {
		t.Fatal(err)
	}
	h := newHarness(t, Config{Store: st})
	h.createActive("durable")
	if _, err := h.client.PublishLayerVersion(ctx, &lambda.PublishLayerVersionInput{LayerName: aws.String("dl"), Content: &types.LayerVersionContentInput{ZipFile: zipOf(t, map[string]string{"a": "b"})}}); err != nil {
		t.Fatal(err)
	}
	h.ts.Close()
	if err := h.srv.Close(ctx); err != nil {
		t.Fatal(err)
	}

	h2 := newHarness(t, Config{Store: reopenStore(ctx, t, st, dir)})
	out, err := h2.client.GetFunction(ctx, &lambda.GetFunctionInput{FunctionName: aws.String("durable")})
	if err != nil || out.Configuration.State != types.StateActive {
		t.Fatalf("after restart: %v %v", out, err)
	}
	resp, err := http.Get(aws.ToString(out.Code.Location))
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("code download after restart: %v %v", resp, err)
	}
	resp.Body.Close()
	lv, err := h2.client.ListLayerVersions(ctx, &lambda.ListLayerVersionsInput{LayerName: aws.String("dl")})
	if err != nil || len(lv.LayerVersions) != 1 {
		t.Fatalf("layer after restart: %v %v", lv, err)
	}
}
