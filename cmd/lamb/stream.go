package main

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"

	"github.com/aws/aws-sdk-go-v2/aws/protocol/eventstream"
)

// invokeStreaming calls InvokeWithResponseStream and writes each PayloadChunk
// to out the moment it arrives; the log tail (when showLog) goes to logOut.
// A function error reported in InvokeComplete is returned as an error.
func invokeStreaming(ctx context.Context, endpoint, name, qualifier string, payload []byte, showLog bool, out, logOut io.Writer) error {
	resp, err := postInvoke(ctx, endpoint, "2021-11-15", "response-streaming-invocations", name, qualifier, payload, showLog) // client.go
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode >= 300 {
		b, _ := io.ReadAll(resp.Body)
		return apiError(resp, b)
	}
	dec := eventstream.NewDecoder()
	var buf []byte
	for {
		msg, err := dec.Decode(resp.Body, buf)
		if errors.Is(err, io.EOF) {
			return fmt.Errorf("invoke %s: stream ended without InvokeComplete", name)
		}
		if err != nil {
			return fmt.Errorf("invoke %s: reading stream: %w", name, err)
		}
		buf = msg.Payload[:0]
		typ := msg.Headers.Get(":event-type")
		if typ == nil {
			continue
		}
		switch typ.String() {
		case "PayloadChunk":
			if _, err := out.Write(msg.Payload); err != nil {
				return err
			}
		case "InvokeComplete":
			var done struct{ ErrorCode, ErrorDetails, LogResult string }
			if err := json.Unmarshal(msg.Payload, &done); err != nil {
				return fmt.Errorf("invoke %s: bad InvokeComplete: %w", name, err)
			}
			if showLog {
				if l, err := base64.StdEncoding.DecodeString(done.LogResult); err == nil {
					fmt.Fprint(logOut, string(l))
				}
			}
			if done.ErrorCode != "" {
				return fmt.Errorf("function error (%s): %s", done.ErrorCode, done.ErrorDetails)
			}
			return nil
		}
	}
}
