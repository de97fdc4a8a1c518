package api

import (
	"bytes"
	"encoding/binary"
	"hash/crc32"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws/protocol/eventstream"
)

// FuzzEventStreamRoundTrip encodes arbitrary headers and payloads and decodes
// them with aws-sdk-go-v2's event-stream decoder, which checks both CRCs.
func FuzzEventStreamRoundTrip(f *testing.F) {
	f.Add(":event-type", "PayloadChunk", []byte("first;"))
	f.Add(":event-type", "InvokeComplete", []byte(`{"LogResult":"U1RBUlQ="}`))
	f.Add("x", "", []byte{})
	f.Add("h", string(make([]byte, 300)), bytes.Repeat([]byte{0, 1, 2}, 5000))
	f.Fuzz(func(t *testing.T, name, value string, payload []byte) {
		msg, err := encodeEventMessage([]esHeader{{name, value}, {":message-type", "event"}}, payload)
		if len(name) == 0 || len(name) > 255 || len(value) > esMaxHeaderValue {
			if err == nil {
				t.Fatalf("header name %d bytes, value %d bytes: want an error", len(name), len(value))
			}
			return
		}
		if err != nil {
			t.Fatal(err)
		}
		m, err := eventstream.NewDecoder().Decode(bytes.NewReader(msg), nil)
		if err != nil {
			t.Fatalf("SDK decoder refused our message: %v", err)
		}
		if !bytes.Equal(m.Payload, payload) {
			t.Fatalf("payload: got %q, want %q", m.Payload, payload)
		}
		if got := m.Headers.Get(name); got == nil || got.String() != value {
			t.Fatalf("header %q: got %v, want %q", name, got, value)
		}
		if got := m.Headers.Get(":message-type"); got == nil || got.String() != "event" {
			t.Fatalf(":message-type: got %v", got)
		}
	})
}

// TestEventStreamCorruptionIsDetected flips one bit in each part of a message:
// the SDK decoder must refuse every one, so our CRCs cover what they should.
func TestEventStreamCorruptionIsDetected(t *testing.T) {
	msg, err := encodeEventMessage([]esHeader{{":event-type", "PayloadChunk"}}, []byte("hello"))
	if err != nil {
		t.Fatal(err)
	}
	if total := binary.BigEndian.Uint32(msg); int(total) != len(msg) {
		t.Fatalf("total length %d, message %d bytes", total, len(msg))
	}
	if crc := binary.BigEndian.Uint32(msg[8:]); crc != crc32.ChecksumIEEE(msg[:8]) {
		t.Fatalf("prelude CRC %08x wrong", crc)
	}
	for _, tc := range []struct {
		name string
		at   int
	}{
		{"prelude", 5},
		{"header", 14},
		{"payload", len(msg) - 6},
		{"message crc", len(msg) - 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			bad := bytes.Clone(msg)
			bad[tc.at] ^= 0x10
			if _, err := eventstream.NewDecoder().Decode(bytes.NewReader(bad), nil); err == nil {
				t.Fatalf("corrupted %s byte %d decoded without error", tc.name, tc.at)
			}
		})
	}
}
