//go:build !linux

package agent

// protectProcess does nothing off Linux: sandboxes are Linux containers, and
// elsewhere the agent runs only in tests.
func protectProcess() error { return nil }
