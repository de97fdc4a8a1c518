package docker

import (
	"archive/tar"
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// The agent volume is named after the binary's hash and filled by streaming
// the binary, which the backend does not keep; a binary replaced meanwhile
// fails the fill.
func TestAgentVolumeStreamsTheBinary(t *testing.T) {
	bin := filepath.Join(t.TempDir(), "lamb")
	data := bytes.Repeat([]byte("agent!"), 100000)
	if err := os.WriteFile(bin, data, 0o755); err != nil {
		t.Fatal(err)
	}
	b := &Backend{cfg: Config{AgentBinary: bin}}
	name, err := b.agentVolumeName()
	sum := sha256.Sum256(data)
	if err != nil || name != "lamb-agent-"+hex.EncodeToString(sum[:8]) {
		t.Fatalf("agentVolumeName() = %q, %v", name, err)
	}
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	if err := b.writeAgent(tw); err != nil {
		t.Fatal(err)
	}
	tw.Close()
	tr := tar.NewReader(&buf)
	h, err := tr.Next()
	if err != nil || h.Name != "lamb" || h.Mode != 0o755 {
		t.Fatalf("tar entry %+v, %v", h, err)
	}
	if got, _ := io.ReadAll(tr); !bytes.Equal(got, data) {
		t.Fatalf("the volume's /lamb has %d bytes, not the binary's %d", len(got), len(data))
	}

	if err := os.WriteFile(bin, append(data[:len(data)-1], '?'), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := b.writeAgent(tar.NewWriter(io.Discard)); err == nil || !strings.Contains(err.Error(), "changed") {
		t.Fatalf("writeAgent with a replaced binary: %v, want an error saying it changed", err)
	}
}
