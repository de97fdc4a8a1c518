package api

import (
	"bytes"
	"encoding/binary"
	"hash/crc32"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws/protocol/eventstream"
)

// FuzzEventStreamMessages frames any number of string headers and a payload.
// Header names are distinct (the SDK's decoder keeps one value per name). A
// message encodeEventMessage accepts is byte for byte the one
// aws-sdk-go-v2's own encoder writes (so within the protocol's limits), its
// lengths and both CRCs are right, and two of them back to back decode with
// the SDK's decoder into the same headers, in order, and payload. A message
// it refuses is one the SDK's encoder refuses too, or has an empty header
// name or a payload over esMaxPayload.
func FuzzEventStreamMessages(f *testing.F) {
	f.Add(headerSpec(esHeader{":event-type", "PayloadChunk"}, esHeader{":content-type", "application/octet-stream"}, esHeader{":message-type", "event"}), []byte("first;"))
	f.Add(headerSpec(esHeader{":event-type", "InvokeComplete"}, esHeader{":content-type", "application/json"}, esHeader{":message-type", "event"}), []byte(`{"ErrorCode":"Unhandled","LogResult":"U1RBUlQ="}`))
	f.Add([]byte{}, []byte{})
	f.Add(headerSpec(esHeader{"a", ""}, esHeader{"b", "again"}), []byte{0})
	f.Add(headerSpec(esHeader{"", "empty name"}), []byte("x"))
	f.Add(headerSpec(esHeader{strings.Repeat("n", 255), strings.Repeat("v", 1<<15-1)}), []byte("longest header the SDK writes"))
	f.Add(headerSpec(esHeader{"v", strings.Repeat("v", 1<<15)}), []byte("value one byte over the SDK's limit"))
	f.Fuzz(func(t *testing.T, spec, payload []byte) {
		headers := parseHeaderSpec(spec)
		seen := map[string]bool{}
		for _, h := range headers {
			if seen[h.Name] {
				return // the decoders keep one value per name; lamb never repeats one
			}
			seen[h.Name] = true
		}
		msg, err := encodeEventMessage(headers, payload)

		var sdk eventstream.Message
		for _, h := range headers {
			sdk.Headers = append(sdk.Headers, eventstream.Header{Name: h.Name, Value: eventstream.StringValue(h.Value)})
		}
		sdk.Payload = payload
		var want bytes.Buffer
		sdkErr := eventstream.NewEncoder().Encode(&want, sdk)

		if err != nil {
			emptyName := false
			for _, h := range headers {
				emptyName = emptyName || h.Name == ""
			}
			if sdkErr == nil && !emptyName && len(payload) <= esMaxPayload {
				t.Fatalf("encodeEventMessage refused what the SDK encodes: %v", err)
			}
			return
		}
		if sdkErr != nil {
			t.Fatalf("encodeEventMessage framed a message the SDK refuses to encode: %v", sdkErr)
		}
		if !bytes.Equal(msg, want.Bytes()) {
			t.Fatalf("encodeEventMessage and the SDK differ:\n got %x\nwant %x", msg, want.Bytes())
		}
		if total := binary.BigEndian.Uint32(msg); int(total) != len(msg) {
			t.Fatalf("total length %d, message %d bytes", total, len(msg))
		}
		if crc := binary.BigEndian.Uint32(msg[8:]); crc != crc32.ChecksumIEEE(msg[:8]) {
			t.Fatalf("prelude CRC %08x, want %08x", crc, crc32.ChecksumIEEE(msg[:8]))
		}
		end := len(msg) - esTrailerLen
		if crc := binary.BigEndian.Uint32(msg[end:]); crc != crc32.ChecksumIEEE(msg[:end]) {
			t.Fatalf("message CRC %08x, want %08x", crc, crc32.ChecksumIEEE(msg[:end]))
		}

		stream := bytes.NewReader(append(append([]byte{}, msg...), msg...))
		dec := eventstream.NewDecoder()
		for i := range 2 {
			m, err := dec.Decode(stream, nil)
			if err != nil {
				t.Fatalf("message %d: the SDK's decoder refused it: %v", i, err)
			}
			if !bytes.Equal(m.Payload, payload) {
				t.Fatalf("message %d: payload %q, want %q", i, m.Payload, payload)
			}
			if len(m.Headers) != len(headers) {
				t.Fatalf("message %d: %d headers, want %d", i, len(m.Headers), len(headers))
			}
			for j, h := range m.Headers {
				v, ok := h.Value.(eventstream.StringValue)
				if h.Name != headers[j].Name || !ok || string(v) != headers[j].Value {
					t.Fatalf("message %d: header %d is %q=%v, want %q=%q", i, j, h.Name, h.Value, headers[j].Name, headers[j].Value)
				}
			}
		}
		if stream.Len() != 0 {
			t.Fatalf("%d bytes left after two messages", stream.Len())
		}
	})
}

// parseHeaderSpec reads headers described as, for each, a name length byte
// and the name, a big-endian uint16 value length and the value; a value cut
// short by the end of spec keeps what there is.
func parseHeaderSpec(spec []byte) []esHeader {
	var hs []esHeader
	for len(spec) > 0 {
		n := min(int(spec[0]), len(spec)-1)
		name := string(spec[1 : 1+n])
		spec = spec[1+n:]
		var value string
		if len(spec) >= 2 {
			m := min(int(binary.BigEndian.Uint16(spec)), len(spec)-2)
			value = string(spec[2 : 2+m])
			spec = spec[2+m:]
		} else {
			spec = nil
		}
		hs = append(hs, esHeader{name, value})
	}
	return hs
}

// headerSpec is parseHeaderSpec's input for hs.
func headerSpec(hs ...esHeader) []byte {
	var b []byte
	for _, h := range hs {
		b = append(b, byte(len(h.Name)))
		b = append(b, h.Name...)
		b = binary.BigEndian.AppendUint16(b, uint16(len(h.Value)))
		b = append(b, h.Value...)
	}
	return b
}
