package e2e

import (
	"os"
	"testing"
)

// hotDir is a folder every user can read (functions run as their account's
// uid on the process backend as root, and as the sandbox user in containers),
// removed at the end of the test.
func hotDir(t *testing.T) string {
	t.Helper()
	dir, err := os.MkdirTemp("", "lamb-hot-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	if err := os.Chmod(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	return dir
}

// TestHotReloadProcess: code from a folder (S3Bucket hot-reload) on the
// process backend, driven by boto3 (testdata/boto3_hotreload.py): python and
// node functions answer with the saved code on the next invoke, new
// subdirectories are watched, a vanished folder is a clear function error.
func TestHotReloadProcess(t *testing.T) {
	s := startLamb(t, "")
	runPythonEnv(t, s, "boto3_hotreload.py", []string{"HOT_DIR=" + hotDir(t)})
}

// TestHotReloadDocker is the same on Docker, where the folder is a read-only
// bind mount.
func TestHotReloadDocker(t *testing.T) {
	e := containerEngines[0]
	host := os.Getenv(e.hostEnv)
	if host == "" {
		host = e.defHost
	}
	cli := engineClient(t, e, host)
	images := engineImages(t, e)
	args := []string{"--backend", "docker"}
	for _, fam := range []string{"python", "nodejs", "provided"} {
		args = append(args, "--runtime-image", fam+"="+images[fam])
	}
	addr := freeAddr(t)
	removeAtEnd(t, cli, "ephemeral-"+addr)
	s := startLambEnv(t, addr, "", []string{"LAMB_CONTAINER_HOST=" + host}, args...)
	if got := healthBackend(t, s); got != e.name {
		t.Fatalf("backend %q, want %q", got, e.name)
	}
	runPythonEnv(t, s, "boto3_hotreload.py", []string{"HOT_DIR=" + hotDir(t)})
}
