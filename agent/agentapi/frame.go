package agentapi

import (
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
)

// maxFrame bounds one frame (the End frame holds at most a 64 KiB log and a
// 6 MB error body, base64-encoded).
const maxFrame = 16 << 20

// WriteFrame writes one frame.
func WriteFrame(w io.Writer, kind byte, data []byte) error {
	var hdr [5]byte
	hdr[0] = kind
	binary.BigEndian.PutUint32(hdr[1:], uint32(len(data)))
	if _, err := w.Write(hdr[:]); err != nil {
		return err
	}
	_, err := w.Write(data)
	return err
}

// WriteEnd writes the End frame.
func WriteEnd(w io.Writer, e *End) error {
	b, err := json.Marshal(e)
	if err != nil {
		return err
	}
	return WriteFrame(w, FrameEnd, b)
}

// ErrBrokenAnswer means the answer's body ended without its End frame.
var ErrBrokenAnswer = errors.New("agentapi: answer broke off")

// frameReader turns frames back into the answer's bytes, keeping the End.
type frameReader struct {
	r      io.Reader
	left   int // bytes left in the current data frame
	end    *End
	hdr    [5]byte
	failed error
}

func (f *frameReader) Read(p []byte) (int, error) {
	for f.left == 0 {
		if f.end != nil {
			return 0, io.EOF
		}
		if f.failed != nil {
			return 0, f.failed
		}
		if _, err := io.ReadFull(f.r, f.hdr[:]); err != nil {
			if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
				err = ErrBrokenAnswer
			}
			f.failed = err
			return 0, err
		}
		n := binary.BigEndian.Uint32(f.hdr[1:])
		if n > maxFrame {
			f.failed = fmt.Errorf("agentapi: frame of %d bytes", n)
			return 0, f.failed
		}
		switch f.hdr[0] {
		case FrameData:
			f.left = int(n)
		case FrameEnd:
			b := make([]byte, n)
			if _, err := io.ReadFull(f.r, b); err != nil {
				f.failed = ErrBrokenAnswer
				return 0, f.failed
			}
			var e End
			if err := json.Unmarshal(b, &e); err != nil {
				f.failed = fmt.Errorf("agentapi: end frame: %w", err)
				return 0, f.failed
			}
			f.end = &e
		default:
			f.failed = fmt.Errorf("agentapi: unknown frame kind %q", f.hdr[0])
			return 0, f.failed
		}
	}
	if len(p) > f.left {
		p = p[:f.left]
	}
	n, err := f.r.Read(p)
	f.left -= n
	if err != nil && (errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF)) {
		if f.left > 0 {
			err = ErrBrokenAnswer
		} else {
			err = nil
		}
	}
	if err != nil {
		f.failed = err
	}
	return n, err
}
