package api

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/lambhq/lamb/engine"
	"github.com/lambhq/lamb/store"
)

// What Event invocations honour of their event invoke config, and where
// their outcome is delivered.

// asyncPolicy is the retry/age/destination setting of one Event invocation.
type asyncPolicy struct {
	retries   int
	maxAge    time.Duration
	onSuccess string
	onFailure string
}

// asyncQualifier is the qualifier an Event invocation addressed ("$LATEST"
// when none).
func asyncQualifier(ev *asyncEvent) string {
	if q, ok := strings.CutPrefix(ev.req.InvokedARN, ev.fn.ARN+":"); ok && q != "" {
		return q
	}
	return "$LATEST"
}

// asyncPolicyFor reads the event invoke config of ev's function and qualifier.
func (s *Server) asyncPolicyFor(ctx context.Context, ev *asyncEvent) asyncPolicy {
	p := asyncPolicy{retries: defaultAsyncRetries, maxAge: defaultMaxEventAge}
	sc := scope{Account: ev.fn.AccountID, Region: ev.fn.Region}
	var cfg eventInvokeConfig
	err := s.store.View(ctx, func(tx store.Tx) error {
		return tx.Get(bucketEventInvokeConfigs, qualifierKey(sc, ev.fn.Name, asyncQualifier(ev)), &cfg)
	})
	if err != nil {
		return p // none configured (or unreadable): AWS's defaults
	}
	if cfg.MaximumRetryAttempts != nil {
		p.retries = int(*cfg.MaximumRetryAttempts)
	}
	if cfg.MaximumEventAgeInSeconds != nil {
		p.maxAge = time.Duration(*cfg.MaximumEventAgeInSeconds) * time.Second
	}
	p.onSuccess = cfg.DestinationConfig.OnSuccess.Destination
	p.onFailure = cfg.DestinationConfig.OnFailure.Destination
	return p
}

// destinationRecord is AWS's invocation record for destinations.
type destinationRecord struct {
	Version        string          `json:"version"`
	Timestamp      string          `json:"timestamp"`
	RequestContext requestContext  `json:"requestContext"`
	RequestPayload json.RawMessage `json:"requestPayload"`
	Response       responseContext `json:"responseContext"`
	ResponsePay    json.RawMessage `json:"responsePayload,omitempty"`
}

type requestContext struct {
	RequestID              string `json:"requestId"`
	FunctionArn            string `json:"functionArn"`
	Condition              string `json:"condition"`
	ApproximateInvokeCount int    `json:"approximateInvokeCount"`
}

type responseContext struct {
	StatusCode      int    `json:"statusCode"`
	ExecutedVersion string `json:"executedVersion"`
	FunctionError   string `json:"functionError,omitempty"`
}

// asJSON keeps valid JSON as is and quotes anything else.
func asJSON(b []byte) json.RawMessage {
	if len(b) == 0 {
		return nil
	}
	if json.Valid(b) {
		return b
	}
	q, _ := json.Marshal(string(b))
	return q
}

// deliverOutcome sends ev's outcome to dest (an ARN; "" means none).
// condition is Success, RetriesExhausted or EventAgeExceeded.
func (s *Server) deliverOutcome(ctx context.Context, ev *asyncEvent, dest, condition string, res *engine.Result, invokeErr error) {
	if dest == "" {
		return
	}
	rec := destinationRecord{
		Version:   "1.0",
		Timestamp: time.Now().UTC().Format("2006-01-02T15:04:05.000Z"),
		RequestContext: requestContext{
			RequestID: ev.req.RequestID, FunctionArn: ev.fn.ARN + ":" + asyncQualifier(ev),
			Condition: condition, ApproximateInvokeCount: ev.attempt + 1,
		},
		RequestPayload: asJSON(ev.req.Payload),
		Response:       responseContext{StatusCode: http.StatusOK, ExecutedVersion: ev.fn.Version},
	}
	if rec.Response.ExecutedVersion == "" {
		rec.Response.ExecutedVersion = "$LATEST"
	}
	switch {
	case res != nil:
		rec.Response.FunctionError = res.FunctionError
		rec.ResponsePay = asJSON(res.Payload)
	case invokeErr != nil:
		rec.Response.StatusCode = http.StatusInternalServerError
		rec.Response.FunctionError = "Unhandled"
		rec.ResponsePay = asJSON([]byte(fmt.Sprintf(`{"errorType":"ServiceException","errorMessage":%q}`, invokeErr.Error())))
	}
	body, err := json.Marshal(rec)
	if err != nil {
		s.log.Error("destination record", "error", err)
		return
	}
	log := s.log.With("function", ev.fn.ARN, "request_id", ev.req.RequestID, "destination", dest, "condition", condition)
	if err := s.deliver(ctx, dest, condition, body); err != nil {
		log.Error("destination not delivered", "error", err)
		return
	}
	log.Info("destination delivered")
}

// deliver sends a record to a Lambda function of this server (an Event
// invocation of it) or to SQS, SNS or EventBridge at Config.DestinationsEndpoint.
func (s *Server) deliver(ctx context.Context, dest, condition string, record []byte) error {
	parts := strings.SplitN(dest, ":", 6)
	if len(parts) < 6 {
		return fmt.Errorf("destination %s is not an ARN", dest)
	}
	service, region, account, resource := parts[2], parts[3], parts[4], parts[5]
	if service == "lambda" {
		sc := scope{Account: account, Region: region}
		ref, err := parseFunctionName(dest, sc, 256)
		if err != nil {
			return err
		}
		f, err := s.loadQualified(ctx, sc, ref, pickWeighted)
		if err != nil {
			return err
		}
		efn, err := s.engineFunction(f.info())
		if err != nil {
			return err
		}
		invoked := efn.ARN
		if ref.Qualifier != "" {
			invoked += ":" + ref.Qualifier
		}
		return s.enqueueAsync(ctx, f.info(), &engine.Request{RequestID: newRequestID(), Payload: record, InvokedARN: invoked, TraceID: traceID()})
	}
	endpoint := strings.TrimSuffix(s.cfg.DestinationsEndpoint, "/")
	if endpoint == "" {
		return fmt.Errorf("lamb delivers %s destinations to an AWS-compatible endpoint: start lamb serve with --destinations-endpoint", service)
	}
	var req *http.Request
	var err error
	switch service {
	case "sqs":
		body, _ := json.Marshal(map[string]string{"QueueUrl": endpoint + "/" + account + "/" + resource, "MessageBody": string(record)})
		req, err = http.NewRequestWithContext(ctx, http.MethodPost, endpoint+"/", bytes.NewReader(body))
		if err == nil {
			req.Header.Set("Content-Type", "application/x-amz-json-1.0")
			req.Header.Set("X-Amz-Target", "AmazonSQS.SendMessage")
		}
	case "sns":
		form := url.Values{"Action": {"Publish"}, "Version": {"2010-03-31"}, "TopicArn": {dest}, "Message": {string(record)}}
		req, err = http.NewRequestWithContext(ctx, http.MethodPost, endpoint+"/", strings.NewReader(form.Encode()))
		if err == nil {
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		}
	case "events":
		detailType := "Lambda Function Invocation Result - Success"
		if condition != "Success" {
			detailType = "Lambda Function Invocation Result - Failure"
		}
		body, _ := json.Marshal(map[string]any{"Entries": []map[string]any{{
			"Source": "lambda", "DetailType": detailType, "Detail": string(record), "EventBusName": dest,
		}}})
		req, err = http.NewRequestWithContext(ctx, http.MethodPost, endpoint+"/", bytes.NewReader(body))
		if err == nil {
			req.Header.Set("Content-Type", "application/x-amz-json-1.1")
			req.Header.Set("X-Amz-Target", "AWSEvents.PutEvents")
		}
	default:
		return fmt.Errorf("lamb cannot deliver to %s destinations", service)
	}
	if err != nil {
		return fmt.Errorf("destination request: %w", err)
	}
	// Local AWS-compatible services read the account and region from the
	// credential scope; they do not verify the signature.
	req.Header.Set("Authorization", fmt.Sprintf("AWS4-HMAC-SHA256 Credential=%s/%s/%s/%s/aws4_request, SignedHeaders=host, Signature=0",
		account, time.Now().UTC().Format("20060102"), region, service))
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return fmt.Errorf("deliver to %s: %w", endpoint, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode >= 300 {
		return fmt.Errorf("deliver to %s: %s answered %s", dest, endpoint, resp.Status)
	}
	return nil
}
