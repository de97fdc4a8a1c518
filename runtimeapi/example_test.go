package runtimeapi_test

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"time"

	"github.com/lambhq/lamb/runtimeapi"
)

// A Server behind an HTTP listener, with a minimal runtime that upper-cases its payload.
func Example() {
	s := runtimeapi.NewServer(runtimeapi.Options{})
	srv := httptest.NewServer(s.Handler()) // the runtime's AWS_LAMBDA_RUNTIME_API
	defer srv.Close()
	defer s.Close()

	// The runtime: poll /next, answer, poll again until the server closes.
	runtimeDone := make(chan struct{})
	go func() {
		defer close(runtimeDone)
		for {
			resp, err := http.Get(srv.URL + "/2018-06-01/runtime/invocation/next")
			if err != nil {
				return
			}
			payload, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode != http.StatusOK {
				return // 403 once the server is closed
			}
			id := resp.Header.Get("Lambda-Runtime-Aws-Request-Id")
			answer := strings.ToUpper(string(payload))
			r, err := http.Post(srv.URL+"/2018-06-01/runtime/invocation/"+id+"/response", "application/json", strings.NewReader(answer))
			if err != nil {
				return
			}
			r.Body.Close()
		}
	}()

	<-s.Ready()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	resp, err := s.Invoke(ctx, &runtimeapi.Invocation{RequestID: "r-1", Payload: []byte(`"hello"`), Deadline: time.Now().Add(3 * time.Second)})
	if err != nil {
		fmt.Println(err)
		return
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	fmt.Printf("%s error=%q\n", body, resp.ErrorType)

	s.Close()
	<-runtimeDone
	// Output: "HELLO" error=""
}
