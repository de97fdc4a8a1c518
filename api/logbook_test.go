package api

import (
	"context"
	"fmt"
	"testing"
)

func TestLogbookRing(t *testing.T) {
	tests := []struct {
		add  int
		want string
	}{
		{0, "[]"},
		{2, "[l0 l1]"},
		{3, "[l0 l1 l2]"},
		{5, "[l2 l3 l4]"},
	}
	for _, tc := range tests {
		b := NewLogbook(3)
		for i := range tc.add {
			b.Add("arn", fmt.Appendf(nil, "l%d\n", i))
		}
		var got []string
		for _, l := range b.Lines("arn") {
			got = append(got, string(l))
		}
		if fmt.Sprint(got) != tc.want {
			t.Errorf("after %d lines: %v, want %v", tc.add, got, tc.want)
		}
	}
}

func TestLogbookFollow(t *testing.T) {
	b := NewLogbook(10)
	b.Add("arn", []byte("old"))
	ctx, cancel := context.WithCancel(context.Background())
	past, ch := b.Follow(ctx, "arn")
	if len(past) != 1 || string(past[0]) != "old" {
		t.Fatalf("past = %q", past)
	}
	b.Add("arn", []byte("new"))
	b.Add("other", []byte("not mine"))
	if got := string(<-ch); got != "new" {
		t.Fatalf("followed %q, want new", got)
	}
	cancel()
	for range ch { // closed once ctx ends
	}
}
