package api

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"

	"github.com/aws/aws-sdk-go-v2/aws/protocol/eventstream"
)

// InvokeWithResponseStream's events, framed as application/vnd.amazon.eventstream
// by aws-sdk-go-v2's encoder: each one carries string headers :event-type
// (PayloadChunk or InvokeComplete), :content-type and :message-type (event).

const eventStreamContentType = "application/vnd.amazon.eventstream"

// eventWriter writes InvokeWithResponseStream's events to an HTTP response,
// flushing each one so the client sees it at once. It is used by one
// goroutine (the encoder reuses its buffers).
type eventWriter struct {
	w   io.Writer
	rc  *http.ResponseController
	enc *eventstream.Encoder
}

func newEventWriter(w http.ResponseWriter) *eventWriter {
	return &eventWriter{w: w, rc: http.NewResponseController(w), enc: eventstream.NewEncoder()}
}

// maxChunkPayload bounds one PayloadChunk event, so a large read of the
// function's output never exceeds what decoders accept (16 MiB in
// aws-sdk-go-v2).
const maxChunkPayload = 1 << 20

// chunk sends p as PayloadChunk events.
func (ew *eventWriter) chunk(p []byte) error {
	for len(p) > 0 {
		n := min(len(p), maxChunkPayload)
		if err := ew.event("PayloadChunk", "application/octet-stream", p[:n]); err != nil {
			return err
		}
		p = p[n:]
	}
	return nil
}

// invokeComplete is the InvokeComplete event's payload.
type invokeComplete struct {
	ErrorCode    string `json:"ErrorCode,omitempty"`
	ErrorDetails string `json:"ErrorDetails,omitempty"`
	LogResult    string `json:"LogResult,omitempty"`
}

func (ew *eventWriter) complete(c invokeComplete) error {
	body, err := json.Marshal(c)
	if err != nil {
		return err
	}
	return ew.event("InvokeComplete", "application/json", body)
}

func (ew *eventWriter) event(eventType, contentType string, payload []byte) error {
	// The encoder frames the whole message in its buffer and writes it in one Write.
	err := ew.enc.Encode(ew.w, eventstream.Message{
		Headers: eventstream.Headers{
			{Name: ":event-type", Value: eventstream.StringValue(eventType)},
			{Name: ":content-type", Value: eventstream.StringValue(contentType)},
			{Name: ":message-type", Value: eventstream.StringValue("event")},
		},
		Payload: payload,
	})
	if err != nil {
		return fmt.Errorf("write %s event: %w", eventType, err)
	}
	if err := ew.rc.Flush(); err != nil {
		return fmt.Errorf("flush %s event: %w", eventType, err)
	}
	return nil
}
