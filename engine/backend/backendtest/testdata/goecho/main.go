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
	"net/http"
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
	Fifo    string   `json:"fifo"`    // stream "first", wait for the fifo, stream "second:" and its content
	Wait    string   `json:"wait"`    // stream "first", GET this URL, stream "second:" and its body
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
		return streamAfter(func() ([]byte, error) { return os.ReadFile(ev.Fifo) }), nil // blocks until the test writes
	case ev.Wait != "":
		return streamAfter(func() ([]byte, error) { return get(ctx, ev.Wait) }), nil // blocks until the test answers
	}
	return raw, nil
}

// streamAfter streams "first", then "second:" and what wait returns.
func streamAfter(wait func() ([]byte, error)) io.Reader {
	pr, pw := io.Pipe()
	go func() {
		_, _ = pw.Write([]byte("first"))
		data, err := wait()
		if err != nil {
			pw.CloseWithError(err)
			return
		}
		_, _ = pw.Write(append([]byte("second:"), data...))
		_ = pw.Close()
	}()
	return pr
}

func get(ctx context.Context, url string) ([]byte, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return nil, err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("GET %s: %s", url, resp.Status)
	}
	return io.ReadAll(resp.Body)
}

func main() { lambda.Start(handle) }
