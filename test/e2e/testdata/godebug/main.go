// Command godebug is a provided.al2023 bootstrap the debugger tests stop in.
package main

import (
	"context"

	"github.com/aws/aws-lambda-go/lambda"
)

type event struct {
	Name string `json:"name"`
}

func handler(_ context.Context, ev event) (map[string]string, error) {
	greeting := "hello " + ev.Name // the tests' breakpoint
	return map[string]string{"greeting": greeting}, nil
}

func main() { lambda.Start(handler) }
