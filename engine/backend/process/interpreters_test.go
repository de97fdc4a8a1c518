package process

import (
	"testing"

	"github.com/lambhq/lamb/runtimes"
)

func TestVersionPromises(t *testing.T) {
	for _, tc := range []struct {
		runtime, version string
		want             bool
	}{
		{"python3.12", "3.12.1", true},
		{"python3.12", "3.12", true},
		{"python3.12", "3.11.7", false},
		{"python3.1", "3.12.1", false}, // a prefix of the digits is not the version
		{"python3.9", "3.9.18", true},
		{"nodejs22.x", "22.23.5", true},
		{"nodejs22.x", "20.20.2", false},
		{"nodejs20.x", "202.0.1", false},
		{"nodejs20.x", "", false},
	} {
		rt, ok := runtimes.Lookup(tc.runtime)
		if !ok {
			rt = runtimes.Runtime{ID: tc.runtime, Family: runtimes.FamilyPython}
		}
		if got := versionMatches(tc.version, wantVersion(rt)); got != tc.want {
			t.Errorf("%s on %q: matches %v, want %v", tc.runtime, tc.version, got, tc.want)
		}
	}
	if v, _ := runtimes.Lookup("provided.al2023"); wantVersion(v) != "" {
		t.Errorf("provided.al2023 promises an interpreter version %q", wantVersion(v))
	}
}
