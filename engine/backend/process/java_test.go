package process

import (
	"testing"

	"github.com/lambhq/lamb/runtimes"
)

func TestJavaWantVersion(t *testing.T) {
	for _, tc := range []struct {
		id, want, version string
		matches           bool
	}{
		{"java17", "17", "17.0.15", true},
		{"java21", "21", "17.0.15", false},
		{"java25", "25", "25.0.1", true},
		{"java11", "11", "1.1.0", false},
		{"java8.al2", "1.8", "1.8.0", true},
		{"java8", "1.8", "18.0.2", false},
	} {
		rt, ok := runtimes.Lookup(tc.id)
		if !ok {
			t.Fatalf("no runtime %s", tc.id)
		}
		if got := wantVersion(rt); got != tc.want {
			t.Errorf("wantVersion(%s) = %q, want %q", tc.id, got, tc.want)
		}
		if got := versionMatches(tc.version, tc.want); got != tc.matches {
			t.Errorf("versionMatches(%q, %q) = %v", tc.version, tc.want, got)
		}
	}
}
