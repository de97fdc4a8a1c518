// Command echo is a Lambda function built on AWS's aws-lambda-go runtime client, used by the
// runtimeapi tests as a real runtime. The payload's "op" picks what it does.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"os"
	"strings"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-lambda-go/lambdacontext"
)

type request struct {
	Op      string `json:"op"`
	Message string `json:"message"`
	Size    int    `json:"size"`
	Signal  string `json:"signal"` // a FIFO the stream waits on between its chunks
}

type contextInfo struct {
	RequestID     string `json:"requestId"`
	FunctionARN   string `json:"functionArn"`
	DeadlineMs    int64  `json:"deadlineMs"`
	TraceID       string `json:"traceId"`
	ClientCustom  string `json:"clientCustom"`
	CognitoID     string `json:"cognitoId"`
	HasClientCtx  bool   `json:"hasClientCtx"`
	HasCognitoCtx bool   `json:"hasCognitoCtx"`
}

func handle(ctx context.Context, raw json.RawMessage) (any, error) {
	var req request
	if err := json.Unmarshal(raw, &req); err != nil {
		return nil, err
	}
	switch req.Op {
	case "echo":
		return raw, nil
	case "error":
		return nil, errors.New(req.Message)
	case "context":
		lc, _ := lambdacontext.FromContext(ctx)
		deadline, _ := ctx.Deadline()
		trace, _ := ctx.Value("x-amzn-trace-id").(string)
		return contextInfo{
			RequestID:     lc.AwsRequestID,
			FunctionARN:   lc.InvokedFunctionArn,
			DeadlineMs:    deadline.UnixMilli(),
			TraceID:       trace,
			ClientCustom:  lc.ClientContext.Custom["k"],
			CognitoID:     lc.Identity.CognitoIdentityID,
			HasClientCtx:  lc.ClientContext.Custom != nil,
			HasCognitoCtx: lc.Identity.CognitoIdentityID != "",
		}, nil
	case "big":
		return strings.Repeat("x", req.Size), nil
	case "stream", "streamfail":
		pr, pw := io.Pipe()
		go func() {
			_, _ = pw.Write([]byte("chunk1"))
			// Blocks until the test opens the FIFO for writing and closes it.
			if _, err := os.ReadFile(req.Signal); err != nil {
				pw.CloseWithError(err)
				return
			}
			if req.Op == "streamfail" {
				pw.CloseWithError(errors.New("stream broke midway"))
				return
			}
			_, _ = pw.Write([]byte("chunk2"))
			pw.Close()
		}()
		return &events.LambdaFunctionURLStreamingResponse{
			StatusCode: 201,
			Headers:    map[string]string{"Content-Type": "text/plain"},
			Body:       pr,
		}, nil
	}
	return nil, errors.New("unknown op " + req.Op)
}

func main() { lambda.Start(handle) }
