package api

import (
	"crypto/sha256"
	"fmt"
	"strings"
)

// Container-image functions. lamb reaches no registry, so it cannot learn an
// image's digest: CodeSha256 is a digest of the image URI instead (stable,
// and new with every new URI, as AWS's changes with every new image), and
// ResolvedImageUri pins the repository to it as AWS pins to the pushed
// image's digest.

// imageConfig is the model's ImageConfig: overrides of the image's
// ENTRYPOINT, CMD and WORKDIR.
type imageConfig struct {
	EntryPoint       []string `json:"EntryPoint,omitempty"`
	Command          []string `json:"Command,omitempty"`
	WorkingDirectory *string  `json:"WorkingDirectory,omitempty"`
}

// empty reports whether c overrides nothing (AWS then shows no ImageConfigResponse).
func (c *imageConfig) empty() bool {
	return c == nil || (len(c.EntryPoint) == 0 && len(c.Command) == 0 && c.WorkingDirectory == nil)
}

// imageConfigResponse is the model's ImageConfigResponse.
type imageConfigResponse struct {
	ImageConfig *imageConfig `json:"ImageConfig,omitempty"`
}

// imageDigest is the hex digest lamb shows as an image function's CodeSha256.
func imageDigest(uri string) string {
	sum := sha256.Sum256([]byte(uri))
	return fmt.Sprintf("%x", sum)
}

// resolvedImageURI is uri's repository pinned to digest
// (repo@sha256:digest), dropping a tag or digest uri carried.
func resolvedImageURI(uri, digest string) string {
	repo := uri
	if at := strings.Index(repo, "@"); at >= 0 {
		repo = repo[:at]
	} else if colon := strings.LastIndex(repo, ":"); colon > strings.LastIndex(repo, "/") {
		repo = repo[:colon]
	}
	return repo + "@sha256:" + digest
}

// setImage points f at uri and refreshes its digest.
func setImage(f *functionRecord, uri string) {
	f.ImageURI = uri
	f.CodeSHA256 = imageDigest(uri)
}

// imageConfigOf renders f's ImageConfig as AWS shows it; nil when unset.
func imageConfigOf(f *functionRecord) *imageConfigResponse {
	if f.ImageConfig.empty() {
		return nil
	}
	return &imageConfigResponse{ImageConfig: f.ImageConfig}
}
