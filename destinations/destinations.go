// Package destinations builds AWS's invocation records for the destinations
// of Event invocations and delivers them to SQS, SNS or EventBridge at an
// AWS-compatible endpoint. Lambda destinations are the API's business: it
// invokes them itself.
package destinations

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
)

// Outcome is how one Event invocation ended, as its destination record tells it.
type Outcome struct {
	RequestID string
	// FunctionARN is the function's ARN with the qualifier invoked.
	FunctionARN string
	// Condition is Success, RetriesExhausted or EventAgeExceeded.
	Condition string
	// Attempts is how many times the event was invoked.
	Attempts        int
	Request         []byte
	ExecutedVersion string
	// Result is the function's answer; nil when lamb could not invoke it (Err).
	Result *engine.Result
	Err    error
}

// Record is AWS's invocation record for destinations.
type Record struct {
	Version        string          `json:"version"`
	Timestamp      string          `json:"timestamp"`
	RequestContext RequestContext  `json:"requestContext"`
	RequestPayload json.RawMessage `json:"requestPayload"`
	Response       ResponseContext `json:"responseContext"`
	ResponsePay    json.RawMessage `json:"responsePayload,omitempty"`
}

// RequestContext says which invocation a Record is of.
type RequestContext struct {
	RequestID              string `json:"requestId"`
	FunctionArn            string `json:"functionArn"`
	Condition              string `json:"condition"`
	ApproximateInvokeCount int    `json:"approximateInvokeCount"`
}

// ResponseContext says how the function answered.
type ResponseContext struct {
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

// Record is o's invocation record, stamped now.
func (o Outcome) Record(now time.Time) ([]byte, error) {
	rec := Record{
		Version:   "1.0",
		Timestamp: now.UTC().Format("2006-01-02T15:04:05.000Z"),
		RequestContext: RequestContext{
			RequestID: o.RequestID, FunctionArn: o.FunctionARN,
			Condition: o.Condition, ApproximateInvokeCount: o.Attempts,
		},
		RequestPayload: asJSON(o.Request),
		Response:       ResponseContext{StatusCode: http.StatusOK, ExecutedVersion: o.ExecutedVersion},
	}
	if rec.Response.ExecutedVersion == "" {
		rec.Response.ExecutedVersion = "$LATEST"
	}
	switch {
	case o.Result != nil:
		rec.Response.FunctionError = o.Result.FunctionError
		rec.ResponsePay = asJSON(o.Result.Payload)
	case o.Err != nil:
		rec.Response.StatusCode = http.StatusInternalServerError
		rec.Response.FunctionError = "Unhandled"
		rec.ResponsePay = asJSON([]byte(fmt.Sprintf(`{"errorType":"ServiceException","errorMessage":%q}`, o.Err.Error())))
	}
	return json.Marshal(rec)
}

// ARN is a destination's ARN, arn:aws:SERVICE:REGION:ACCOUNT:RESOURCE.
type ARN struct {
	Service, Region, Account, Resource string
}

// ParseARN splits a destination ARN.
func ParseARN(dest string) (ARN, error) {
	parts := strings.SplitN(dest, ":", 6)
	if len(parts) < 6 {
		return ARN{}, fmt.Errorf("destination %s is not an ARN", dest)
	}
	return ARN{Service: parts[2], Region: parts[3], Account: parts[4], Resource: parts[5]}, nil
}

// Client delivers records to SQS, SNS and EventBridge at Endpoint.
type Client struct {
	// Endpoint is the AWS-compatible endpoint (LocalStack, moto, ...); ""
	// refuses every delivery with an error that says how to set one.
	Endpoint string
	// HTTP sends the requests; nil means http.DefaultClient.
	HTTP *http.Client
}

// Send delivers record to dest (an SQS queue, SNS topic or EventBridge bus
// ARN); condition picks EventBridge's detail type.
func (c *Client) Send(ctx context.Context, dest, condition string, record []byte) error {
	arn, err := ParseARN(dest)
	if err != nil {
		return err
	}
	service, region, account, resource := arn.Service, arn.Region, arn.Account, arn.Resource
	endpoint := strings.TrimSuffix(c.Endpoint, "/")
	if endpoint == "" {
		return fmt.Errorf("lamb delivers %s destinations to an AWS-compatible endpoint: start lamb serve with --destinations-endpoint", service)
	}
	var req *http.Request
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
	hc := c.HTTP
	if hc == nil {
		hc = http.DefaultClient
	}
	resp, err := hc.Do(req)
	if err != nil {
		return fmt.Errorf("deliver to %s: %w", endpoint, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode >= 300 {
		return fmt.Errorf("deliver to %s: %s answered %s", dest, endpoint, resp.Status)
	}
	return nil
}
