// Command echo is the benchmark's provided.al2023 bootstrap, built with AWS's
// aws-lambda-go runtime client: it returns its event unchanged. With
// ECHO_SLEEP_MS set it first sleeps that long, standing in for a function that
// does real work (the scale-out benchmark).
package main

import (
	"context"
	"encoding/json"
	"os"
	"strconv"
	"time"

	"github.com/aws/aws-lambda-go/lambda"
)

func main() {
	var work time.Duration
	if ms, err := strconv.Atoi(os.Getenv("ECHO_SLEEP_MS")); err == nil && ms > 0 {
		work = time.Duration(ms) * time.Millisecond
	}
	lambda.Start(func(ctx context.Context, event json.RawMessage) (json.RawMessage, error) {
		if work > 0 {
			t := time.NewTimer(work)
			defer t.Stop()
			select {
			case <-t.C:
			case <-ctx.Done():
				return nil, ctx.Err()
			}
		}
		return event, nil
	})
}
