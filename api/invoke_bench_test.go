package api

import (
	"bytes"
	"context"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	"github.com/aws/aws-sdk-go-v2/service/lambda/types"

	"github.com/lambhq/lamb/engine"
	"github.com/lambhq/lamb/engine/backend"
)

// nopEngine answers every invocation with its payload and keeps nothing.
type nopEngine struct{}

func (nopEngine) Invoke(_ context.Context, fn *engine.Function, req *engine.Request) (*engine.Result, error) {
	return &engine.Result{Payload: req.Payload, ExecutedVersion: fn.Version}, nil
}
func (nopEngine) Prepull(context.Context, *engine.Function, func(backend.Progress)) error {
	return nil
}
func (nopEngine) Evict(context.Context, *engine.Function) (bool, error) { return false, nil }
func (nopEngine) Instances() []engine.InstanceInfo                      { return nil }

// BenchmarkInvokeHandler is the API's share of a warm invoke: routing, the
// function's lookup in the store, the payload, the engine's function and the
// response, without the network (ServeHTTP on a recorder) or an engine.
func BenchmarkInvokeHandler(b *testing.B) {
	t := &testing.T{}
	h := newHarness(t, Config{Engine: nopEngine{}})
	b.Cleanup(func() { h.ts.Close() })
	_, err := h.client.CreateFunction(b.Context(), &lambda.CreateFunctionInput{
		FunctionName: aws.String("bench"), Runtime: types.RuntimePython312, Handler: aws.String("handler.handler"),
		Role:        aws.String("arn:aws:iam::" + testAccount + ":role/r"),
		Code:        &types.FunctionCode{ZipFile: handlerZip(t, "event")},
		Environment: &types.Environment{Variables: map[string]string{"A": "1", "B": "2", "STAGE": "bench"}},
	})
	if err != nil {
		b.Fatal(err)
	}
	payload := []byte(`{"bench":"warm","n":1234567890,"items":["a","b","c"]}`)
	auth := "AWS4-HMAC-SHA256 Credential=" + testAccount + "/20260101/us-east-1/lambda/aws4_request, SignedHeaders=host, Signature=0"
	serve := func() *httptest.ResponseRecorder {
		req := httptest.NewRequest(http.MethodPost, "/2015-03-31/functions/bench/invocations", bytes.NewReader(payload))
		req.Host = "127.0.0.1"
		req.Header.Set("Authorization", auth)
		req.Header.Set("Content-Type", "application/json")
		w := httptest.NewRecorder()
		h.srv.ServeHTTP(w, req)
		return w
	}
	if w := serve(); w.Code != http.StatusOK || !bytes.Equal(w.Body.Bytes(), payload) {
		b.Fatalf("invoke: %d %s", w.Code, w.Body)
	}
	b.ReportAllocs()
	for b.Loop() {
		if w := serve(); w.Code != http.StatusOK {
			b.Fatalf("invoke: %d %s", w.Code, w.Body)
		}
	}
}
