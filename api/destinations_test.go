package api

import (
	"context"
	"encoding/json"
	"errors"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	"github.com/aws/aws-sdk-go-v2/service/lambda/types"
	"github.com/lambhq/lamb/destinations"
)

// waitRequests polls until fn received n requests.
func waitRequests(t *testing.T, e *echoEngine, name string, n int) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for len(e.requestsTo(name)) < n {
		if time.Now().After(deadline) {
			t.Fatalf("%s received %d requests, want %d", name, len(e.requestsTo(name)), n)
		}
		time.Sleep(2 * time.Millisecond)
	}
}

// destinationRecord waits for fn's nth request (from 1) and decodes it as the
// record a destination receives.
func destinationRecord(t *testing.T, e *echoEngine, fn string, n int) destinations.Record {
	t.Helper()
	waitRequests(t, e, fn, n)
	var rec destinations.Record
	if err := json.Unmarshal(e.requestsTo(fn)[n-1].Payload, &rec); err != nil {
		t.Fatal(err)
	}
	return rec
}

func TestEventInvokeConfigRetriesAndDestinations(t *testing.T) {
	eng := &echoEngine{failName: "failing"}
	h := newHarness(t, Config{Engine: eng, AsyncRetryDelay: time.Millisecond})
	ctx := context.Background()
	for _, name := range []string{"failing", "sink", "ok"} {
		if _, err := h.client.CreateFunction(ctx, createInput(t, name)); err != nil {
			t.Fatal(err)
		}
		waitActive(t, h.client, name)
	}
	sc := scope{Account: testAccount, Region: "us-east-1"}
	for _, tc := range []struct {
		fn, dest string
		retries  int32
	}{{"failing", "onFailure", 1}, {"ok", "onSuccess", 0}} {
		dc := &types.DestinationConfig{}
		if tc.dest == "onFailure" {
			dc.OnFailure = &types.OnFailure{Destination: aws.String(functionArn(sc, "sink"))}
		} else {
			dc.OnSuccess = &types.OnSuccess{Destination: aws.String(functionArn(sc, "sink"))}
		}
		if _, err := h.client.PutFunctionEventInvokeConfig(ctx, &lambda.PutFunctionEventInvokeConfigInput{
			FunctionName: aws.String(tc.fn), MaximumRetryAttempts: aws.Int32(tc.retries), DestinationConfig: dc,
		}); err != nil {
			t.Fatal(err)
		}
	}

	if _, err := h.client.Invoke(ctx, &lambda.InvokeInput{FunctionName: aws.String("failing"), InvocationType: types.InvocationTypeEvent, Payload: []byte(`{"n":1}`)}); err != nil {
		t.Fatal(err)
	}
	rec := destinationRecord(t, eng, "sink", 1)
	if got := len(eng.requestsTo("failing")); got != 2 {
		t.Errorf("failing function ran %d times, want 1 + MaximumRetryAttempts 1", got)
	}
	if rec.Version != "1.0" || rec.RequestContext.Condition != "RetriesExhausted" || rec.RequestContext.ApproximateInvokeCount != 2 ||
		rec.RequestContext.FunctionArn != functionArn(sc, "failing")+":$LATEST" || string(rec.RequestPayload) != `{"n":1}` ||
		rec.Response.FunctionError != "Unhandled" || rec.Response.ExecutedVersion != "$LATEST" || rec.Response.StatusCode != 200 {
		t.Errorf("failure record %+v", rec)
	}

	if _, err := h.client.Invoke(ctx, &lambda.InvokeInput{FunctionName: aws.String("ok"), InvocationType: types.InvocationTypeEvent, Payload: []byte(`{"n":2}`)}); err != nil {
		t.Fatal(err)
	}
	rec = destinationRecord(t, eng, "sink", 2)
	if rec.RequestContext.Condition != "Success" || rec.Response.FunctionError != "" || rec.RequestContext.ApproximateInvokeCount != 1 {
		t.Errorf("success record %+v", rec)
	}

	// SQS destinations need an endpoint to deliver to: refused clearly without one.
	_, err := h.client.PutFunctionEventInvokeConfig(ctx, &lambda.PutFunctionEventInvokeConfigInput{FunctionName: aws.String("ok"),
		DestinationConfig: &types.DestinationConfig{OnFailure: &types.OnFailure{Destination: aws.String("arn:aws:sqs:us-east-1:111111111111:q")}}})
	var ipv *types.InvalidParameterValueException
	if !errors.As(err, &ipv) {
		t.Errorf("SQS destination without endpoint: %v", err)
	}
}
