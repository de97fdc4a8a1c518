package api

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"net/http/httptest"
	"testing"
	"unicode/utf8"

	"github.com/aws/aws-sdk-go-v2/aws/protocol/eventstream"
)

// FuzzEventWriter writes a function's output, read in arbitrary pieces, as
// InvokeWithResponseStream does (PayloadChunk events, then InvokeComplete),
// and reads the response back with aws-sdk-go-v2's decoder: every message
// decodes, carries the three headers its event needs, no chunk is larger
// than maxChunkPayload or empty, the chunks concatenate to the output and
// the stream ends with exactly one InvokeComplete carrying what was sent.
func FuzzEventWriter(f *testing.F) {
	f.Add([]byte("first;second"), []byte{6}, "", "U1RBUlQ=")
	f.Add([]byte{}, []byte{}, "Unhandled", "")
	f.Add(bytes.Repeat([]byte{0, 1, 2}, 5000), []byte{0, 200, 7}, "Sandbox.Timedout", "")
	f.Fuzz(func(t *testing.T, output, cuts []byte, errorCode, logResult string) {
		if !utf8.ValidString(errorCode) || !utf8.ValidString(logResult) {
			return // JSON would replace the bytes; lamb's codes and logs are UTF-8
		}
		rec := httptest.NewRecorder()
		ew := newEventWriter(rec)
		rest := output
		for i := 0; len(rest) > 0; i++ {
			n := len(rest)
			if i < len(cuts) {
				n = min(n, int(cuts[i])+1)
			}
			if i%7 == 6 {
				n = min(len(rest), maxChunkPayload+n) // a read larger than one event
			}
			if err := ew.chunk(rest[:n]); err != nil {
				t.Fatal(err)
			}
			rest = rest[n:]
		}
		want := invokeComplete{ErrorCode: errorCode, LogResult: logResult}
		if err := ew.complete(want); err != nil {
			t.Fatal(err)
		}

		stream := bytes.NewReader(rec.Body.Bytes())
		dec := eventstream.NewDecoder()
		var got []byte
		completes := 0
		for {
			m, err := dec.Decode(stream, nil)
			if errors.Is(err, io.EOF) {
				break
			}
			if err != nil {
				t.Fatalf("the SDK's decoder refused a message: %v", err)
			}
			if completes > 0 {
				t.Fatal("an event after InvokeComplete")
			}
			if h := m.Headers.Get(":message-type"); h == nil || h.String() != "event" {
				t.Fatalf(":message-type %v", h)
			}
			et, ct := m.Headers.Get(":event-type"), m.Headers.Get(":content-type")
			if et == nil || ct == nil {
				t.Fatalf("headers %v", m.Headers)
			}
			switch et.String() {
			case "PayloadChunk":
				if ct.String() != "application/octet-stream" || len(m.Payload) == 0 || len(m.Payload) > maxChunkPayload {
					t.Fatalf("PayloadChunk of %d bytes, %s", len(m.Payload), ct)
				}
				got = append(got, m.Payload...)
			case "InvokeComplete":
				completes++
				var c invokeComplete
				if ct.String() != "application/json" || json.Unmarshal(m.Payload, &c) != nil || c != want {
					t.Fatalf("InvokeComplete %s (%s), want %+v", m.Payload, ct, want)
				}
			default:
				t.Fatalf("event type %s", et)
			}
		}
		if completes != 1 || !bytes.Equal(got, output) {
			t.Fatalf("%d InvokeComplete events; chunks %d bytes, output %d", completes, len(got), len(output))
		}
	})
}
