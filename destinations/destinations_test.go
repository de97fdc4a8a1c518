package destinations

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/lambhq/lamb/engine"
)

func TestRecord(t *testing.T) {
	now := time.Date(2026, 1, 2, 3, 4, 5, 6e6, time.UTC)
	for _, tc := range []struct {
		name             string
		o                Outcome
		status           int
		version, fnError string
		response         string
	}{
		{"success", Outcome{Condition: "Success", Request: []byte(`{"a":1}`), ExecutedVersion: "3", Result: &engine.Result{Payload: []byte(`"ok"`)}},
			200, "3", "", `"ok"`},
		{"function error, text answer", Outcome{Condition: "RetriesExhausted", Result: &engine.Result{FunctionError: "Unhandled", Payload: []byte("not json")}},
			200, "$LATEST", "Unhandled", `"not json"`},
		{"not invoked", Outcome{Condition: "EventAgeExceeded", Err: errors.New("no engine")},
			500, "$LATEST", "Unhandled", `{"errorType":"ServiceException","errorMessage":"no engine"}`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tc.o.RequestID, tc.o.FunctionARN, tc.o.Attempts = "r1", "arn:aws:lambda:us-east-1:111111111111:function:f:$LATEST", 3
			b, err := tc.o.Record(now)
			if err != nil {
				t.Fatal(err)
			}
			var rec Record
			if err := json.Unmarshal(b, &rec); err != nil {
				t.Fatal(err)
			}
			want := RequestContext{RequestID: "r1", FunctionArn: tc.o.FunctionARN, Condition: tc.o.Condition, ApproximateInvokeCount: 3}
			if rec.Version != "1.0" || rec.Timestamp != "2026-01-02T03:04:05.006Z" || rec.RequestContext != want {
				t.Errorf("record %+v", rec)
			}
			if rec.Response != (ResponseContext{StatusCode: tc.status, ExecutedVersion: tc.version, FunctionError: tc.fnError}) {
				t.Errorf("responseContext %+v", rec.Response)
			}
			if string(rec.ResponsePay) != tc.response {
				t.Errorf("responsePayload %s, want %s", rec.ResponsePay, tc.response)
			}
		})
	}
}

// TestSend checks each service's request as an AWS-compatible endpoint
// (LocalStack, moto) reads it.
func TestSend(t *testing.T) {
	type got struct {
		target, ctype, auth string
		body                []byte
	}
	reqs := make(chan got, 1)
	status := http.StatusOK
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		reqs <- got{r.Header.Get("X-Amz-Target"), r.Header.Get("Content-Type"), r.Header.Get("Authorization"), b}
		w.WriteHeader(status)
	}))
	defer srv.Close()
	c := &Client{Endpoint: srv.URL + "/"}
	ctx := context.Background()
	record := []byte(`{"version":"1.0"}`)

	for _, tc := range []struct {
		dest, condition, target, ctype, scope string
		check                                 func(t *testing.T, body []byte)
	}{
		{"arn:aws:sqs:eu-west-1:222222222222:q", "Success", "AmazonSQS.SendMessage", "application/x-amz-json-1.0", "/eu-west-1/sqs/", func(t *testing.T, body []byte) {
			var m map[string]string
			_ = json.Unmarshal(body, &m)
			if m["QueueUrl"] != srv.URL+"/222222222222/q" || m["MessageBody"] != string(record) {
				t.Errorf("SendMessage %v", m)
			}
		}},
		{"arn:aws:sns:us-east-1:111111111111:topic", "Success", "", "application/x-www-form-urlencoded", "/us-east-1/sns/", func(t *testing.T, body []byte) {
			v, _ := url.ParseQuery(string(body))
			if v.Get("Action") != "Publish" || v.Get("TopicArn") != "arn:aws:sns:us-east-1:111111111111:topic" || v.Get("Message") != string(record) {
				t.Errorf("Publish %v", v)
			}
		}},
		{"arn:aws:events:us-east-1:111111111111:event-bus/b", "RetriesExhausted", "AWSEvents.PutEvents", "application/x-amz-json-1.1", "/us-east-1/events/", func(t *testing.T, body []byte) {
			var m struct{ Entries []map[string]string }
			_ = json.Unmarshal(body, &m)
			if len(m.Entries) != 1 || m.Entries[0]["DetailType"] != "Lambda Function Invocation Result - Failure" || m.Entries[0]["Detail"] != string(record) {
				t.Errorf("PutEvents %v", m)
			}
		}},
	} {
		t.Run(tc.dest, func(t *testing.T) {
			if err := c.Send(ctx, tc.dest, tc.condition, record); err != nil {
				t.Fatal(err)
			}
			g := <-reqs
			if g.target != tc.target || g.ctype != tc.ctype || !strings.Contains(g.auth, tc.scope) {
				t.Errorf("target %q, content type %q, authorization %q", g.target, g.ctype, g.auth)
			}
			tc.check(t, g.body)
		})
	}

	status = http.StatusBadRequest
	if err := c.Send(ctx, "arn:aws:sqs:us-east-1:111111111111:q", "Success", record); err == nil || !strings.Contains(err.Error(), "400") {
		t.Errorf("a refused delivery: %v", err)
	}
	<-reqs
	for _, dest := range []string{"arn:aws:s3:::bucket", "not-an-arn"} {
		if err := c.Send(ctx, dest, "Success", record); err == nil {
			t.Errorf("%s: delivered", dest)
		}
	}
	if err := (&Client{}).Send(ctx, "arn:aws:sqs:us-east-1:111111111111:q", "Success", record); err == nil || !strings.Contains(err.Error(), "--destinations-endpoint") {
		t.Errorf("without an endpoint: %v", err)
	}
}
