package docker

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"os"
	"path/filepath"
	"runtime"
)

// candidates lists the engine addresses Detect tries, in order.
func candidates() []string {
	var hs []string
	for _, env := range []string{"LAMB_CONTAINER_HOST", "DOCKER_HOST"} {
		if v := os.Getenv(env); v != "" {
			hs = append(hs, v)
		}
	}
	// Docker Desktop, Colima, OrbStack and Rancher Desktop each create a
	// docker CLI context and make it current: its host is where the user's
	// `docker` goes.
	if h := contextHost(dockerConfigDir(), os.Getenv("DOCKER_CONTEXT")); h != "" {
		hs = append(hs, h)
	}
	if runtime.GOOS == "windows" {
		return append(hs, "npipe:////./pipe/docker_engine") // Docker Desktop
	}
	hs = append(hs, "unix:///var/run/docker.sock")
	if home, err := os.UserHomeDir(); err == nil {
		// Docker Desktop: macOS (since 4.13 /var/run/docker.sock is only
		// an optional link to it), then Linux.
		hs = append(hs, "unix://"+filepath.Join(home, ".docker", "run", "docker.sock"),
			"unix://"+filepath.Join(home, ".docker", "desktop", "docker.sock"))
	}
	hs = append(hs, "unix:///run/podman/podman.sock")
	if xdg := os.Getenv("XDG_RUNTIME_DIR"); xdg != "" {
		hs = append(hs, "unix://"+filepath.Join(xdg, "podman", "podman.sock"))
	}
	return hs
}

// dockerConfigDir is the docker CLI's configuration directory: DOCKER_CONFIG,
// else ~/.docker ("" when there is no home).
func dockerConfigDir() string {
	if d := os.Getenv("DOCKER_CONFIG"); d != "" {
		return d
	}
	home, err := os.UserHomeDir()
	if err != nil {
		return ""
	}
	return filepath.Join(home, ".docker")
}

// contextHost returns the docker endpoint of the docker CLI context named
// name, or of config.json's currentContext when name is empty; "" for the
// default context (the CLI's built-in one, DOCKER_HOST or the platform's
// socket, which candidates lists anyway) and whatever cannot be read. The
// CLI stores a context under contexts/meta/<sha256 of its name>/meta.json.
func contextHost(configDir, name string) string {
	if configDir == "" {
		return ""
	}
	if name == "" {
		data, err := os.ReadFile(filepath.Join(configDir, "config.json"))
		if err != nil {
			return ""
		}
		var cfg struct {
			CurrentContext string `json:"currentContext"`
		}
		if json.Unmarshal(data, &cfg) != nil {
			return ""
		}
		name = cfg.CurrentContext
	}
	if name == "" || name == "default" {
		return ""
	}
	sum := sha256.Sum256([]byte(name))
	data, err := os.ReadFile(filepath.Join(configDir, "contexts", "meta", hex.EncodeToString(sum[:]), "meta.json"))
	if err != nil {
		return ""
	}
	var meta struct {
		Endpoints map[string]struct {
			Host string `json:"Host"`
		} `json:"Endpoints"`
	}
	if json.Unmarshal(data, &meta) != nil {
		return ""
	}
	return meta.Endpoints["docker"].Host
}
