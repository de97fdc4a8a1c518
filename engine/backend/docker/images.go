package docker

import "github.com/lambhq/lamb/runtimes"

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
