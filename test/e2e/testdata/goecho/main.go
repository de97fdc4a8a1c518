// Command goecho is a provided.al2023 bootstrap built with AWS's aws-lambda-go
// runtime client: it echoes its event, with the request id from the context.
package main

import (
	"context"
	"encoding/json"
	"errors"

	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-lambda-go/lambdacontext"
)

type reply struct {
	Event     json.RawMessage `json:"event"`
	RequestID string          `json:"requestId"`
	ARN       string          `json:"arn"`
}

func handle(ctx context.Context, event json.RawMessage) (reply, error) {
	lc, _ := lambdacontext.FromContext(ctx)
	if string(event) == `"fail"` {
		return reply{}, errors.New("failed on request")
	}
	return reply{Event: event, RequestID: lc.AwsRequestID, ARN: lc.InvokedFunctionArn}, nil
}

func main() { lambda.Start(handle) }
