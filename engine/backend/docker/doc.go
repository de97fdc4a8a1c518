// Package docker is lamb's container backend: each instance is a Docker (or
// Podman, through its Docker-compatible socket) container created through the
// Engine API, running lamb's agent as its entrypoint, which runs the
// function's runtime and serves it the Runtime API.
//
// # Use
//
//	b, err := docker.New(ctx, docker.Config{ServerID: id, RuntimeImages: images})
//	eng := engine.New(b)
//
// [Detect] finds an engine (LAMB_CONTAINER_HOST, DOCKER_HOST, the Docker
// socket, rootful then rootless Podman sockets).
//
// # Sandboxes
//
// Code (/var/task), merged layers (/opt) and the agent (/lamb) come from
// content-addressed volumes filled once and mounted read-only, so nothing is
// bind-mounted from the host (a remote engine works) and nothing is copied at
// cold start. The root filesystem is read-only, /tmp a tmpfs of
// EphemeralStorage size, the memory limit MemorySize with no swap. Every
// container is labelled lamb.managed=true with the server's ID, so Reap finds
// what a dead server left behind.
//
// # Talking to the agent
//
// The host holds one event stream per instance (ready, init error, log lines,
// exit: readiness is pushed, not polled) and sends each invocation as one
// HTTP request whose answer streams back as the runtime writes it; see
// package agentapi. Exits and OOM kills come from the agent's exit event and
// the container's state. Functions reach lamb's API at AWS_ENDPOINT_URL on
// the container's own loopback, where the agent listens and tunnels each
// connection to the host over that same path (Config.API), so no address
// of the host has to exist or be reachable from the container.
package docker
