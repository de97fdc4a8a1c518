package api

import (
	"os"
	"strings"
	"testing"
)

// TestCoverageDocListsEveryOperation keeps docs/api-coverage.md complete:
// every operation of the model has a row.
func TestCoverageDocListsEveryOperation(t *testing.T) {
	raw, err := os.ReadFile("../docs/api-coverage.md")
	if err != nil {
		t.Fatal(err)
	}
	doc := string(raw)
	for _, op := range operations {
		if !strings.Contains(doc, "| "+op.Name+" | `") {
			t.Errorf("docs/api-coverage.md has no row for %s", op.Name)
		}
	}
}
