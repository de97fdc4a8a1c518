package testenv

import "testing"

func TestLookPathFindsSh(t *testing.T) {
	if p := LookPath(t, "sh"); p == "" {
		t.Fatal("LookPath returned nothing for sh")
	}
}
