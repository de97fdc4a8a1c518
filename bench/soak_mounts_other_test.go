//go:build !linux

package bench

// detachMounts does nothing: private engines (startPrivateEngine) need a
// Linux host, whose mount table is what is cleaned.
func detachMounts(string) {}

// killShims does nothing off Linux, for the same reason.
func killShims(string) {}
