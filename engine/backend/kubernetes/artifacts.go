package kubernetes

import (
	"crypto/rand"
	"crypto/subtle"
	"encoding/hex"
	"errors"
	"io"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"sync"

	"github.com/lambhq/lamb/engine/backend"
)

// ArtifactPath is the URL path prefix of the artifact endpoint: an artifact
// is GET ArtifactPath + its hex sha256.
const ArtifactPath = "/_lamb/internal/k8s/artifacts/"

var shaRE = regexp.MustCompile(`^[0-9a-f]{64}$`)

// ArtifactLookup finds an artifact by its hex sha256.
type ArtifactLookup func(sha256 string) (backend.Artifact, bool)

// ArtifactHandler serves GET ArtifactPath+sha256 to callers that present
// "Authorization: Bearer <token>": 401 without a bearer token, 403 with a
// wrong one (compared in constant time), 404 for an artifact lookup does not
// know. Mount it at ArtifactPath (or any prefix of it) on lamb's listener.
func ArtifactHandler(token string, lookup ArtifactLookup) http.Handler {
	want := []byte(token)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		auth := r.Header.Get("Authorization")
		scheme, got, ok := strings.Cut(auth, " ")
		if !ok || !strings.EqualFold(scheme, "Bearer") || got == "" {
			w.Header().Set("WWW-Authenticate", `Bearer realm="lamb"`)
			http.Error(w, "missing bearer token", http.StatusUnauthorized)
			return
		}
		if len(want) == 0 || subtle.ConstantTimeCompare([]byte(got), want) != 1 {
			http.Error(w, "bad token", http.StatusForbidden)
			return
		}
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			w.Header().Set("Allow", "GET, HEAD")
			http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
			return
		}
		sha, ok := strings.CutPrefix(r.URL.Path, ArtifactPath)
		if !ok || !shaRE.MatchString(sha) {
			http.NotFound(w, r)
			return
		}
		a, ok := lookup(sha)
		if !ok || a.Open == nil {
			http.NotFound(w, r)
			return
		}
		rc, err := a.Open(r.Context())
		if err != nil {
			http.Error(w, "open artifact: "+err.Error(), http.StatusInternalServerError)
			return
		}
		defer rc.Close()
		w.Header().Set("Content-Type", "application/zip")
		if a.Size > 0 {
			w.Header().Set("Content-Length", strconv.FormatInt(a.Size, 10))
		}
		if r.Method == http.MethodHead {
			return
		}
		_, _ = io.Copy(w, rc) // the client verifies the sha256: a short copy fails there
	})
}

// newToken returns 32 random bytes, hex-encoded.
func newToken() (string, error) {
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		return "", err
	}
	return hex.EncodeToString(b), nil
}

// artifacts holds the artifacts of live instances, counted by reference, so
// the endpoint serves exactly what some Pod may still need.
type artifacts struct {
	mu   sync.Mutex
	byID map[string]*artifactRef
}

type artifactRef struct {
	a    backend.Artifact
	refs int
}

var errBadArtifact = errors.New("artifact without a sha256 or an Open function")

func (s *artifacts) add(as ...backend.Artifact) error {
	for _, a := range as {
		if !shaRE.MatchString(a.SHA256) || a.Open == nil {
			return errBadArtifact
		}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.byID == nil {
		s.byID = map[string]*artifactRef{}
	}
	for _, a := range as {
		r := s.byID[a.SHA256]
		if r == nil {
			r = &artifactRef{a: a}
			s.byID[a.SHA256] = r
		}
		r.refs++
	}
	return nil
}

func (s *artifacts) release(as ...backend.Artifact) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, a := range as {
		if r := s.byID[a.SHA256]; r != nil {
			if r.refs--; r.refs <= 0 {
				delete(s.byID, a.SHA256)
			}
		}
	}
}

func (s *artifacts) lookup(sha string) (backend.Artifact, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	r := s.byID[sha]
	if r == nil {
		return backend.Artifact{}, false
	}
	return r.a, true
}
