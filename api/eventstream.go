package api

import (
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"net/http"
)

// The application/vnd.amazon.eventstream framing of InvokeWithResponseStream.
// A message is
//
//	total length (uint32) | headers length (uint32) | prelude CRC32 (uint32)
//	headers | payload | message CRC32 (uint32)
//
// all big-endian; both checksums are CRC-32 (IEEE). A header is name length
// (uint8), name, value type (uint8; 7 = string), value length (uint16), value.
// The protocol caps a value at 32767 bytes (INT16_MAX): the SDKs refuse
// longer ones.

const (
	eventStreamContentType = "application/vnd.amazon.eventstream"
	esPreludeLen           = 12
	esTrailerLen           = 4
	esHeaderTypeString     = 7
	esMaxHeaderValue       = 1<<15 - 1
	// esMaxPayload is the decoder's limit on one message's payload (16 MiB in
	// aws-sdk-go-v2); chunks are cut well below it.
	esMaxPayload = 16 << 20
)

// esHeader is one string-valued header of an event-stream message.
type esHeader struct{ Name, Value string }

// errEventStreamTooLarge is returned for a message the SDK decoders would refuse.
var errEventStreamTooLarge = errors.New("eventstream: message too large")

// encodeEventMessage frames headers and payload as one event-stream message.
func encodeEventMessage(headers []esHeader, payload []byte) ([]byte, error) {
	hlen := 0
	for _, h := range headers {
		if len(h.Name) == 0 || len(h.Name) > 255 || len(h.Value) > esMaxHeaderValue {
			return nil, fmt.Errorf("eventstream: header %q: bad length", h.Name)
		}
		hlen += 1 + len(h.Name) + 1 + 2 + len(h.Value)
	}
	if len(payload) > esMaxPayload {
		return nil, errEventStreamTooLarge
	}
	total := esPreludeLen + hlen + len(payload) + esTrailerLen
	msg := make([]byte, 0, total)
	msg = binary.BigEndian.AppendUint32(msg, uint32(total))
	msg = binary.BigEndian.AppendUint32(msg, uint32(hlen))
	msg = binary.BigEndian.AppendUint32(msg, crc32.ChecksumIEEE(msg[:8]))
	for _, h := range headers {
		msg = append(msg, byte(len(h.Name)))
		msg = append(msg, h.Name...)
		msg = append(msg, esHeaderTypeString)
		msg = binary.BigEndian.AppendUint16(msg, uint16(len(h.Value)))
		msg = append(msg, h.Value...)
	}
	msg = append(msg, payload...)
	msg = binary.BigEndian.AppendUint32(msg, crc32.ChecksumIEEE(msg))
	return msg, nil
}

// eventWriter writes InvokeWithResponseStream's events to an HTTP response,
// flushing each one so the client sees it at once.
type eventWriter struct {
	w  io.Writer
	rc *http.ResponseController
}

func newEventWriter(w http.ResponseWriter) *eventWriter {
	return &eventWriter{w: w, rc: http.NewResponseController(w)}
}

// maxChunkPayload bounds one PayloadChunk event, so a large read of the
// function's output never exceeds what decoders accept.
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
	msg, err := encodeEventMessage([]esHeader{
		{":event-type", eventType},
		{":content-type", contentType},
		{":message-type", "event"},
	}, payload)
	if err != nil {
		return err
	}
	if _, err := ew.w.Write(msg); err != nil {
		return fmt.Errorf("write %s event: %w", eventType, err)
	}
	if err := ew.rc.Flush(); err != nil {
		return fmt.Errorf("flush %s event: %w", eventType, err)
	}
	return nil
}
