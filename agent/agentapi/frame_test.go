package agentapi

import (
	"bytes"
	"errors"
	"io"
	"testing"
)

func TestFrames(t *testing.T) {
	frames := func(fs ...func(w io.Writer)) []byte {
		var b bytes.Buffer
		for _, f := range fs {
			f(&b)
		}
		return b.Bytes()
	}
	data := func(s string) func(io.Writer) { return func(w io.Writer) { _ = WriteFrame(w, FrameData, []byte(s)) } }
	end := func(e End) func(io.Writer) { return func(w io.Writer) { _ = WriteEnd(w, &e) } }
	cases := []struct {
		name    string
		in      []byte
		want    string
		wantErr error
		wantEnd *End
	}{
		{"answer", frames(data("hel"), data("lo"), end(End{Log: []byte("x\n"), LogSeq: 2})), "hello", nil, &End{Log: []byte("x\n"), LogSeq: 2}},
		{"empty", frames(end(End{})), "", nil, &End{}},
		{"no end", frames(data("hel")), "hel", ErrBrokenAnswer, nil},
		{"cut in a frame", frames(data("hello"))[:7], "he", ErrBrokenAnswer, nil},
		{"cut end", frames(data("a"), end(End{Failure: "x"}))[:9], "a", ErrBrokenAnswer, nil},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			fr := &frameReader{r: bytes.NewReader(tc.in)}
			got, err := io.ReadAll(fr)
			if string(got) != tc.want {
				t.Errorf("data %q, want %q", got, tc.want)
			}
			if tc.wantErr == nil && err != nil || tc.wantErr != nil && !errors.Is(err, tc.wantErr) {
				t.Errorf("err %v, want %v", err, tc.wantErr)
			}
			if (fr.end == nil) != (tc.wantEnd == nil) || fr.end != nil && (string(fr.end.Log) != string(tc.wantEnd.Log) || fr.end.LogSeq != tc.wantEnd.LogSeq) {
				t.Errorf("end %+v, want %+v", fr.end, tc.wantEnd)
			}
		})
	}
}
