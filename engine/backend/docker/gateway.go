package docker

import (
	"context"
	"fmt"
	"net"

	"github.com/lambhq/lamb/runtimes"

	"github.com/docker/docker/api/types/network"
)

// Gateway returns the host's address on the network containers join, where a
// server on the host must listen for containers to reach it (lamb listens
// there as well as on loopback, never on all interfaces unless asked).
func (b *Backend) Gateway(ctx context.Context) (net.IP, error) {
	name := b.cfg.Network
	if name == "" {
		name = "bridge"
		if b.podman {
			name = "podman"
		}
	}
	nw, err := b.cli.NetworkInspect(ctx, name, network.InspectOptions{})
	if err != nil {
		return nil, fmt.Errorf("docker backend: inspect network %s: %w", name, err)
	}
	for _, c := range nw.IPAM.Config {
		if ip := net.ParseIP(c.Gateway); ip != nil && ip.To4() != nil {
			return ip, nil
		}
	}
	return nil, fmt.Errorf("docker backend: network %s has no IPv4 gateway", name)
}

// HostAlias is the name containers resolve to the host: Docker's
// host-gateway alias, or the one Podman adds itself.
func (b *Backend) HostAlias() string {
	if b.podman {
		return "host.containers.internal"
	}
	return "host.docker.internal"
}

// SetHostAddr sets Config.HostAddr (AWS_ENDPOINT_URL inside containers). Call
// it before the first Launch; the address is usually only known once the
// server listens on Gateway.
func (b *Backend) SetHostAddr(url string) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.cfg.HostAddr = url
}

func (b *Backend) hostAddr() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.cfg.HostAddr
}

// ImageFor is the image a Zip function of runtime runs in: the configured
// image for the runtime ID, else for its family, else image (the caller's
// choice), else AWS's base image. The engine asks before pre-pulling.
func (b *Backend) ImageFor(runtime, image string) string {
	rt, ok := runtimes.Lookup(runtime)
	if !ok {
		return image
	}
	if img := b.cfg.RuntimeImages[rt.ID]; img != "" {
		return img
	}
	if img := b.cfg.RuntimeImages[rt.Family]; img != "" {
		return img
	}
	if image != "" {
		return image
	}
	return rt.Image
}
