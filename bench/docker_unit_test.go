package bench

import (
	"maps"
	"testing"
)

func TestParseImages(t *testing.T) {
	tests := []struct {
		name, spec string
		want       map[string]string
	}{
		{"script output", "python=lamb-runtime-python:1\nprovided=lamb-runtime-provided:2\n",
			map[string]string{"python": "lamb-runtime-python:1", "provided": "lamb-runtime-provided:2"}},
		{"comma separated, spaces", " python=p:1 , nodejs=n:2", map[string]string{"python": "p:1", "nodejs": "n:2"}},
		{"registry port in the image", "provided=localhost:5000/x:3", map[string]string{"provided": "localhost:5000/x:3"}},
		{"malformed pairs dropped", "python=,=x,junk,provided=p:1", map[string]string{"provided": "p:1"}},
		{"empty", "", map[string]string{}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := parseImages(tc.spec); !maps.Equal(got, tc.want) {
				t.Errorf("parseImages(%q) = %v, want %v", tc.spec, got, tc.want)
			}
		})
	}
}
