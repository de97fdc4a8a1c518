package engine

import (
	"testing"

	"github.com/lambhq/lamb/engine/backend"
)

// TestPoolKeyStable pins poolKey's encoding: instances started by an earlier
// lamb keep matching their configuration after an upgrade.
func TestPoolKeyStable(t *testing.T) {
	withLayers := testFunction()
	withLayers.Env["Z"] = "1"
	withLayers.Layers = []backend.Artifact{{SHA256: "l1"}, {Dir: "/x", Revision: "r"}}
	for _, tc := range []struct {
		name string
		fn   *Function
		want string
	}{
		{"plain", testFunction(), "arn:aws:lambda:eu-west-1:000000000000:function:echo:$LATEST#d5c69fdd6783f214"},
		{"layers", withLayers, "arn:aws:lambda:eu-west-1:000000000000:function:echo:$LATEST#f90d895ab5584dc0"},
	} {
		if got := poolKey(tc.fn); got != tc.want {
			t.Errorf("%s: poolKey = %s, want %s", tc.name, got, tc.want)
		}
	}
}
