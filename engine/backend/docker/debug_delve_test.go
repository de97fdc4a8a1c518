package docker

import (
	"context"
	"errors"
	"log/slog"
	"os"
	"path/filepath"
	"testing"

	"github.com/docker/docker/api/types/container"

	"github.com/lambhq/lamb/engine/backend"
)

func TestCheckDelve(t *testing.T) {
	sh, err := os.ReadFile("/bin/sh") // a Linux ELF executable
	if err != nil {
		t.Skip("no /bin/sh")
	}
	b := &Backend{log: slog.New(slog.DiscardHandler)}
	cases := []struct {
		name string
		data []byte
		ok   bool
	}{
		{"linux elf", sh, true},
		{"script", []byte("#!/bin/sh\nexec dlv \"$@\"\n"), false},
		{"mach-o", []byte{0xcf, 0xfa, 0xed, 0xfe, 7, 0, 0, 1}, false},
		{"empty", nil, false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			err := b.checkDelve("/x/dlv", tc.data)
			if tc.ok != (err == nil) || err != nil && !errors.Is(err, errDebugUnsupported) {
				t.Fatalf("checkDelve = %v, want ok %v", err, tc.ok)
			}
		})
	}
}

// delveContainer leaves every other container alone (and touches no engine).
func TestDelveContainerOthersUntouched(t *testing.T) {
	cases := []struct {
		name string
		spec backend.Spec
	}{
		{"not debugged", backend.Spec{Runtime: "provided.al2023"}},
		{"python", backend.Spec{Runtime: "python3.12", Debug: &backend.Debug{Port: 5678}}},
		{"image", backend.Spec{PackageType: "Image", Debug: &backend.Debug{Port: 5678}}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c := &container.Config{Entrypoint: []string{"/lamb/lamb", "agent", "--"}}
			hc := &container.HostConfig{}
			if err := (&Backend{}).delveContainer(context.Background(), &tc.spec, c, hc); err != nil {
				t.Fatal(err)
			}
			if len(c.Entrypoint) != 3 || len(hc.Mounts) != 0 || len(hc.CapAdd) != 0 {
				t.Fatalf("changed: %v %+v", c.Entrypoint, hc)
			}
		})
	}
}

func TestFindDelveMissing(t *testing.T) {
	t.Setenv("LAMB_DLV", "")
	t.Setenv("PATH", t.TempDir())
	t.Setenv("HOME", t.TempDir())
	if _, err := findDelve(); !errors.Is(err, errDebugUnsupported) {
		t.Fatalf("findDelve with no dlv = %v", err)
	}
	dlv := filepath.Join(t.TempDir(), "dlv")
	t.Setenv("LAMB_DLV", dlv)
	if p, err := findDelve(); err != nil || p != dlv {
		t.Fatalf("findDelve with LAMB_DLV = %q, %v", p, err)
	}
}
