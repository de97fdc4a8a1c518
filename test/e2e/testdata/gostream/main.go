// Command gostream is a provided.al2023 bootstrap built with aws-lambda-go
// whose handler streams its answer: it returns an io.Reader that yields
// "first;" at once and "second;" once the file named by the event exists
// (or 5 s passed).
package main

import (
	"context"
	"io"
	"os"
	"time"

	"github.com/aws/aws-lambda-go/lambda"
)

type event struct {
	Gate string `json:"gate"`
}

func handle(ctx context.Context, ev event) (io.Reader, error) {
	pr, pw := io.Pipe()
	go func() {
		// The pipe's reader is the runtime client; it reads to the end, so
		// this goroutine always finishes.
		_, _ = io.WriteString(pw, "first;")
		deadline := time.Now().Add(5 * time.Second)
		for ev.Gate != "" && time.Now().Before(deadline) {
			if _, err := os.Stat(ev.Gate); err == nil {
				break
			}
			select {
			case <-ctx.Done():
				pw.CloseWithError(ctx.Err())
				return
			case <-time.After(5 * time.Millisecond):
			}
		}
		_, _ = io.WriteString(pw, "second;")
		pw.Close()
	}()
	return pr, nil
}

func main() { lambda.Start(handle) }
