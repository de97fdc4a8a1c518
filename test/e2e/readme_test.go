package e2e

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// quickStart returns the README's quick-start script: the sh block after
// "Then, in another terminal:". The test runs that text, so the README cannot
// drift from what works.
func quickStart(t *testing.T) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "..", "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	_, rest, ok := strings.Cut(string(b), "Then, in another terminal:")
	if !ok {
		t.Fatal(`README.md: no "Then, in another terminal:" section`)
	}
	_, rest, ok = strings.Cut(rest, "```sh\n")
	if !ok {
		t.Fatal("README.md: no sh block after the quick start's second terminal")
	}
	script, _, ok := strings.Cut(rest, "```")
	if !ok {
		t.Fatal("README.md: unterminated sh block")
	}
	return script
}

// TestReadmeQuickStart runs the README's quick start as a newcomer would, with
// the AWS CLI v1 (pip's, first on PATH on our machines) and with v2 (Debian's):
// each flag and environment variable it uses must work with both. Only the
// server's address and `go run ./cmd/lamb` (the binary this package built)
// are substituted; the shell starts from an empty home and no AWS_* variables.
func TestReadmeQuickStart(t *testing.T) {
	script := quickStart(t)
	for _, tc := range []struct {
		name, major string
		find        func() string
	}{
		{"cli-v1", "aws-cli/1", func() string {
			// pip's v1: the first aws on PATH that is a v1.
			for _, dir := range filepath.SplitList(os.Getenv("PATH")) {
				p := filepath.Join(dir, "aws")
				if v, err := exec.Command(p, "--version").CombinedOutput(); err == nil && strings.HasPrefix(string(v), "aws-cli/1") {
					return p
				}
			}
			return ""
		}},
		{"cli-v2", "aws-cli/2", func() string { return "/usr/bin/aws" }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			bin := tc.find()
			v, err := exec.Command(bin, "--version").CombinedOutput()
			need(t, "the AWS CLI "+tc.major, bin != "" && err == nil && strings.HasPrefix(string(v), tc.major))

			s := startLamb(t, "")
			dir := t.TempDir()
			binDir := filepath.Join(dir, "bin")
			if err := os.Mkdir(binDir, 0o755); err != nil {
				t.Fatal(err)
			}
			if err := os.Symlink(bin, filepath.Join(binDir, "aws")); err != nil {
				t.Fatal(err)
			}
			run := strings.NewReplacer("http://127.0.0.1:3001", s.URL, "go run ./cmd/lamb", lambBin).Replace(script)

			cmd := exec.Command("bash", "-e", "-O", "expand_aliases", "-c", run)
			cmd.Dir = dir
			env := []string{"HOME=" + dir, "PATH=" + binDir + string(os.PathListSeparator) + os.Getenv("PATH"),
				"LAMB_ENDPOINT=" + s.URL, "AWS_PAGER=", "AWS_EC2_METADATA_DISABLED=true"}
			for _, kv := range os.Environ() {
				if k, _, _ := strings.Cut(kv, "="); !strings.HasPrefix(k, "AWS_") && !strings.HasPrefix(k, "LAMB_") && k != "HOME" && k != "PATH" {
					env = append(env, kv)
				}
			}
			cmd.Env = env
			out, err := cmd.CombinedOutput()
			if err != nil {
				t.Fatalf("the quick start failed with %s: %v\n%s", v, err, out)
			}
			for _, want := range []string{`"hello": "lamb"`, "REPORT RequestId"} {
				if !strings.Contains(string(out), want) {
					t.Errorf("the quick start's output lacks %q:\n%s", want, out)
				}
			}
		})
	}
}
