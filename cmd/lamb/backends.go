package main

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"strings"

	"github.com/lambhq/lamb/agent/agentapi"
	"github.com/lambhq/lamb/engine"
	"github.com/lambhq/lamb/engine/backend/docker"
	"github.com/lambhq/lamb/engine/backend/process"
	"github.com/lambhq/lamb/runtimes"
)

// newBackend builds the backend --backend names. auto takes Docker or Podman
// when one answers, else the process backend; a named backend that cannot be
// had is an error, never a silent fall back. Container and Kubernetes
// backends hand the connections their functions open to lamb's API
// (AWS_ENDPOINT_URL, served by each sandbox's agent) to api, which lamb
// serves; the process backend's functions run on the host.
func newBackend(ctx context.Context, o serveOptions, workDir, serverID string, api *agentapi.Listener, log *slog.Logger) (engine.Backend, error) {
	switch o.backend {
	case "auto":
		if host, ok := docker.Detect(ctx); ok {
			return newDockerBackend(ctx, o, host, serverID, api, log)
		}
		log.Info("backend auto: no Docker or Podman engine answers; using the process backend")
		return newProcessBackend(o, workDir, log)
	case "process":
		return newProcessBackend(o, workDir, log)
	case "docker", "podman":
		return newDockerBackend(ctx, o, "", serverID, api, log)
	case "kubernetes":
		images, err := runtimeImages(o.runtimeImages)
		if err != nil {
			return nil, err
		}
		kb, err := newKubernetesBackend(ctx, o.kube, images, serverID, api, log)
		if err != nil {
			return nil, err // a bad configuration stops start-up: never a fall back
		}
		return kb, nil
	}
	return nil, fmt.Errorf("--backend %q: want auto, process, docker or kubernetes", o.backend)
}

func newProcessBackend(o serveOptions, workDir string, log *slog.Logger) (engine.Backend, error) {
	interps := map[string]string{}
	for _, kv := range o.interpreters {
		rt, path, ok := strings.Cut(kv, "=")
		if !ok || rt == "" || path == "" {
			return nil, fmt.Errorf("--runtime-interpreter %q: want RUNTIME=PATH, e.g. python3.12=/usr/bin/python3.12", kv)
		}
		if _, known := runtimes.Lookup(rt); !known {
			return nil, fmt.Errorf("--runtime-interpreter %q: %q is not a Lambda runtime id", kv, rt)
		}
		interps[rt] = path
	}
	return process.New(process.Config{WorkDir: workDir, PythonBin: o.python, NodeBin: o.node, Interpreters: interps, Logger: log, Prestart: o.prestart})
}

func newDockerBackend(ctx context.Context, o serveOptions, host, serverID string, api *agentapi.Listener, log *slog.Logger) (engine.Backend, error) {
	images, err := runtimeImages(o.runtimeImages)
	if err != nil {
		return nil, err
	}
	b, err := docker.New(ctx, docker.Config{Host: host, ServerID: serverID, RuntimeImages: images, API: api, Logger: log, AgentBinary: o.agentBinary,
		StartAhead: o.prestart})
	if err != nil {
		return nil, fmt.Errorf("--backend %s: %w", o.backend, err)
	}
	return b, nil
}

// runtimeImages reads KEY=IMAGE pairs from --runtime-image, LAMB_RUNTIME_IMAGES
// (comma separated) and LAMB_RUNTIME_IMAGE_<KEY> variables (KEY with dots as
// underscores is not needed: families and runtime ids are matched case-blind).
func runtimeImages(flags []string) (map[string]string, error) {
	pairs := append([]string(nil), flags...)
	if len(flags) == 0 {
		if v := os.Getenv("LAMB_RUNTIME_IMAGES"); v != "" {
			pairs = append(pairs, strings.Split(v, ",")...)
		}
	}
	for _, kv := range os.Environ() {
		k, v, _ := strings.Cut(kv, "=")
		if key, ok := strings.CutPrefix(k, "LAMB_RUNTIME_IMAGE_"); ok && key != "" {
			pairs = append(pairs, strings.ToLower(key)+"="+v)
		}
	}
	images := map[string]string{}
	for _, p := range pairs {
		p = strings.TrimSpace(p)
		if p == "" {
			continue
		}
		k, v, ok := strings.Cut(p, "=")
		if !ok || k == "" || v == "" {
			return nil, fmt.Errorf("--runtime-image %q: want KEY=IMAGE, e.g. python=lamb-runtime-python:abc", p)
		}
		images[k] = v
	}
	return images, nil
}
