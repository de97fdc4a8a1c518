// Command goecho is a provided.al2023 function built with AWS's aws-lambda-go
// runtime client, used by the backend conformance suite. What it does depends
// on the event's fields.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"

	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-lambda-go/lambdacontext"
)

type event struct {
	Log     []string `json:"log"`     // lines printed to stdout first
	Error   string   `json:"error"`   // return this error
	Exit    *int     `json:"exit"`    // exit the process with this status mid-call
	Context bool     `json:"context"` // answer with the invocation's context
	Env     []string `json:"env"`     // answer with these environment variables
	Fifo    string   `json:"fifo"`    // stream "first", wait for the fifo, stream "second"
	Block   bool     `json:"block"`   // never answer
}

func handle(ctx context.Context, raw json.RawMessage) (any, error) {
	var ev event
	if err := json.Unmarshal(raw, &ev); err != nil {
		return nil, err
	}
	for _, l := range ev.Log {
		fmt.Println(l)
	}
	switch {
	case ev.Error != "":
		return nil, errors.New(ev.Error)
	case ev.Exit != nil:
		os.Exit(*ev.Exit)
	case ev.Block:
		<-make(chan struct{})
	case ev.Context:
		lc, _ := lambdacontext.FromContext(ctx)
		dl, ok := ctx.Deadline()
		return map[string]any{"requestId": lc.AwsRequestID, "arn": lc.InvokedFunctionArn,
			"hasDeadline": ok && !dl.IsZero(), "function": lambdacontext.FunctionName}, nil
	case len(ev.Env) > 0:
		out := map[string]string{}
		for _, k := range ev.Env {
			out[k] = os.Getenv(k)
		}
		return out, nil
	case ev.Fifo != "":
		pr, pw := io.Pipe()
		go func() {
			_, _ = pw.Write([]byte("first"))
			data, err := os.ReadFile(ev.Fifo) // blocks until the test writes
			if err != nil {
				pw.CloseWithError(err)
				return
			}
			_, _ = pw.Write(append([]byte("second:"), data...))
			_ = pw.Close()
		}()
		return pr, nil
	}
	return raw, nil
}

func main() { lambda.Start(handle) }
