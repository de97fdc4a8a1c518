package e2e

import "testing"

// TestBoto3APIBreadth drives versions, aliases, policies, tags, RevisionId
// preconditions, reserved and provisioned concurrency, event invoke configs
// with destinations and account settings with boto3 against `lamb serve`.
func TestBoto3APIBreadth(t *testing.T) {
	s := startLamb(t, "", "--async-retry-delay", "100ms")
	runPython(t, s, "boto3_api_breadth.py")
}
