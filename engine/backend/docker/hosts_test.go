package docker

import (
	"crypto/sha256"
	"encoding/hex"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"testing"
)

// writeContext stores a docker CLI context as the CLI does.
func writeContext(t *testing.T, configDir, name, host string) {
	t.Helper()
	sum := sha256.Sum256([]byte(name))
	dir := filepath.Join(configDir, "contexts", "meta", hex.EncodeToString(sum[:]))
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	meta := `{"Name":"` + name + `","Metadata":{},"Endpoints":{"docker":{"Host":"` + host + `","SkipTLSVerify":false}}}`
	if err := os.WriteFile(filepath.Join(dir, "meta.json"), []byte(meta), 0o644); err != nil {
		t.Fatal(err)
	}
}

func TestContextHost(t *testing.T) {
	dir := t.TempDir()
	writeContext(t, dir, "desktop-linux", "unix:///Users/me/.docker/run/docker.sock")
	writeContext(t, dir, "colima", "unix:///Users/me/.colima/default/docker.sock")
	if err := os.WriteFile(filepath.Join(dir, "config.json"), []byte(`{"auths":{},"currentContext":"desktop-linux"}`), 0o644); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name, configDir, context, want string
	}{
		{"current context", dir, "", "unix:///Users/me/.docker/run/docker.sock"},
		{"DOCKER_CONTEXT wins", dir, "colima", "unix:///Users/me/.colima/default/docker.sock"},
		{"default context", dir, "default", ""},
		{"unknown context", dir, "gone", ""},
		{"no config", t.TempDir(), "", ""},
		{"no config dir", "", "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := contextHost(tt.configDir, tt.context); got != tt.want {
				t.Errorf("contextHost = %q, want %q", got, tt.want)
			}
		})
	}
}

// The environment comes first, then the current context, then the
// platform's sockets, Docker Desktop's among them.
func TestCandidatesOrder(t *testing.T) {
	dir := t.TempDir()
	writeContext(t, dir, "orbstack", "unix:///Users/me/.orbstack/run/docker.sock")
	if err := os.WriteFile(filepath.Join(dir, "config.json"), []byte(`{"currentContext":"orbstack"}`), 0o644); err != nil {
		t.Fatal(err)
	}
	home := t.TempDir()
	t.Setenv("HOME", home)
	t.Setenv("USERPROFILE", home)
	t.Setenv("DOCKER_CONFIG", dir)
	t.Setenv("DOCKER_CONTEXT", "")
	t.Setenv("LAMB_CONTAINER_HOST", "tcp://lamb:2375")
	t.Setenv("DOCKER_HOST", "tcp://docker:2375")
	got := candidates()
	want := []string{"tcp://lamb:2375", "tcp://docker:2375", "unix:///Users/me/.orbstack/run/docker.sock"}
	if runtime.GOOS == "windows" {
		want = append(want, "npipe:////./pipe/docker_engine")
	} else {
		want = append(want, "unix:///var/run/docker.sock", "unix://"+filepath.Join(home, ".docker", "run", "docker.sock"))
	}
	if len(got) < len(want) || !slices.Equal(got[:len(want)], want) {
		t.Fatalf("candidates() = %q, want it to start with %q", got, want)
	}
}
