package kubernetes

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/lambhq/lamb/ziparchive"
)

// Environment of the init container (set by the backend on every Pod).
const (
	envInitURL    = "LAMB_INIT_URL"    // lamb's SelfURL
	envInitToken  = "LAMB_INIT_TOKEN"  // the artifact endpoint's bearer token
	envInitCode   = "LAMB_INIT_CODE"   // sha256 of the code zip ("" for none)
	envInitLayers = "LAMB_INIT_LAYERS" // sha256s of the layer zips, in order
)

// InitMain is the init container's program (`lamb k8s-init`): it installs
// the running binary as the agent and fetches and extracts the code and
// layers named in its environment. It returns the process's exit status;
// its last stderr line becomes the Pod's termination message.
//
//	lamb k8s-init [--check] [--agent-dir /lamb-agent] [--task /var/task] [--opt /opt] [--tmp /tmp]
func InitMain(args []string, stderr io.Writer) int {
	fs := flag.NewFlagSet("k8s-init", flag.ContinueOnError)
	fs.SetOutput(stderr)
	agentDir := fs.String("agent-dir", agentDir, "where to install the agent binary")
	task := fs.String("task", taskRoot, "where the code goes")
	opt := fs.String("opt", optDir, "where the layers go")
	tmp := fs.String("tmp", "/tmp", "scratch space for downloads")
	check := fs.Bool("check", false, "exit 0 at once (proves a binary has this mode)")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if *check {
		return 0
	}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, syscall.SIGINT)
	defer stop()
	ic := initConfig{
		URL: os.Getenv(envInitURL), Token: os.Getenv(envInitToken), Code: os.Getenv(envInitCode),
		AgentDir: *agentDir, Task: *task, Opt: *opt, Tmp: *tmp,
	}
	if l := os.Getenv(envInitLayers); l != "" {
		ic.Layers = strings.Split(l, ",")
	}
	if err := runInit(ctx, ic); err != nil {
		fmt.Fprintln(stderr, "lamb k8s-init:", err)
		return 1
	}
	return 0
}

type initConfig struct {
	URL, Token, Code         string
	Layers                   []string
	AgentDir, Task, Opt, Tmp string
	Client                   *http.Client // default: one with a 2 min timeout
	Self                     string       // the binary to install (default os.Executable)
}

func runInit(ctx context.Context, ic initConfig) error {
	if ic.Client == nil {
		ic.Client = &http.Client{Timeout: 2 * time.Minute}
	}
	if ic.Self == "" {
		exe, err := os.Executable()
		if err != nil {
			return fmt.Errorf("find own binary: %w", err)
		}
		ic.Self = exe
	}
	if err := installAgent(ic.Self, filepath.Join(ic.AgentDir, "lamb")); err != nil {
		return err
	}
	if ic.Code != "" {
		if err := fetchExtract(ctx, ic, ic.Code, ic.Task); err != nil {
			return fmt.Errorf("code: %w", err)
		}
	}
	// Layers in the function's order: later ones overwrite earlier files, as on AWS.
	for i, sha := range ic.Layers {
		if err := fetchExtract(ctx, ic, sha, ic.Opt); err != nil {
			return fmt.Errorf("layer %d: %w", i+1, err)
		}
	}
	return nil
}

func installAgent(src, dst string) error {
	in, err := os.Open(src)
	if err != nil {
		return fmt.Errorf("install agent: %w", err)
	}
	defer in.Close()
	out, err := os.OpenFile(dst, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o755)
	if err != nil {
		return fmt.Errorf("install agent: %w", err)
	}
	if _, err := io.Copy(out, in); err != nil {
		out.Close()
		return fmt.Errorf("install agent: %w", err)
	}
	if err := out.Close(); err != nil {
		return fmt.Errorf("install agent: %w", err)
	}
	return nil
}

// errAuth is returned when the artifact endpoint refuses the token.
var errAuth = errors.New("artifact endpoint refused the token")

// fetchExtract downloads one artifact to a scratch file, checks its sha256
// and extracts it into dir.
func fetchExtract(ctx context.Context, ic initConfig, sha, dir string) error {
	if !shaRE.MatchString(sha) {
		return fmt.Errorf("bad sha256 %q", sha)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, strings.TrimRight(ic.URL, "/")+ArtifactPath+sha, nil)
	if err != nil {
		return err
	}
	req.Header.Set("Authorization", "Bearer "+ic.Token)
	resp, err := ic.Client.Do(req)
	if err != nil {
		return fmt.Errorf("fetch %s: %w", sha[:12], err)
	}
	defer resp.Body.Close()
	switch {
	case resp.StatusCode == http.StatusUnauthorized || resp.StatusCode == http.StatusForbidden:
		return fmt.Errorf("fetch %s: %s: %w", sha[:12], resp.Status, errAuth)
	case resp.StatusCode != http.StatusOK:
		return fmt.Errorf("fetch %s from %s: %s", sha[:12], ic.URL, resp.Status)
	}
	f, err := os.CreateTemp(ic.Tmp, "lamb-artifact-*.zip")
	if err != nil {
		return err
	}
	defer os.Remove(f.Name())
	defer f.Close()
	h := sha256.New()
	n, err := io.Copy(io.MultiWriter(f, h), resp.Body)
	if err != nil {
		return fmt.Errorf("fetch %s: %w", sha[:12], err)
	}
	if got := hex.EncodeToString(h.Sum(nil)); got != sha {
		return fmt.Errorf("fetch %s: got content with sha256 %s", sha[:12], got[:12])
	}
	if err := ziparchive.Extract(ctx, f, n, dir); err != nil {
		return fmt.Errorf("extract %s: %w", sha[:12], err)
	}
	return nil
}
