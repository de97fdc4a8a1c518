package api

import (
	"fmt"
	"regexp"
	"testing"
)

func TestMatchGroups(t *testing.T) {
	tests := []struct {
		pattern *regexp.Regexp
		s       string
		want    string // fmt of the map; "map[]" for nil
	}{
		{layerNamePattern, "my-layer", "map[account: bare:my-layer name: region:]"},
		{layerNamePattern, "arn:aws:lambda:eu-west-1:111111111111:layer:l1", "map[account:111111111111 bare: name:l1 region:eu-west-1]"},
		{layerNamePattern, "bad name", "map[]"},
		{layerVersionArnPattern, "arn:aws:lambda:us-east-1:111111111111:layer:l1:7", "map[account:111111111111 name:l1 region:us-east-1 version:7]"},
		{regexp.MustCompile(`^(a)(?P<b>b)?$`), "a", "map[b:]"}, // unnamed groups are left out
	}
	for _, tc := range tests {
		got := matchGroups(tc.pattern, tc.s)
		if fmt.Sprint(got) != tc.want || (tc.want == "map[]") != (got == nil) {
			t.Errorf("matchGroups(%q) = %v, want %s", tc.s, got, tc.want)
		}
	}
}
