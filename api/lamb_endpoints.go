package api

import (
	"crypto/subtle"
	"errors"
	"io"
	"net/http"
	"regexp"
	"strconv"
	"strings"

	"github.com/lambhq/lamb/store"
)

var blobNamePattern = regexp.MustCompile(`^[0-9a-f]{64}\.zip$`)

// serveLamb serves lamb's own endpoints:
//
//	GET /_lamb/health            {"status":"ok","version":...,"backend":...}
//	GET /_lamb/code/<sha256>.zip a function's or layer's zip (Code.Location, Content.Location)
//	GET /_lamb/instances         warm instances (lamb ps)
//	GET /_lamb/urls              function URLs with their local addresses (lamb urls)
//	ANY /_lamb/urls/<url-id>/... a function URL, for clients that cannot set a Host
//	POST /_lamb/functions/{name}/evict  stop a function's instances
//	GET /_lamb/functions/{name}/logs    recent log lines; ?follow=true streams new ones
//	GET|PUT|DELETE /_lamb/stacks[/{name}] lamb deploy's stack records (stacks.go)
//	GET|PUT|DELETE /_lamb/schedules[/{name}] schedules lamb invokes functions on (schedules.go)
//
// Zips are addressed by content hash, which the client only learns from an
// API answer about a function or layer it can see.
//
// With --credentials, all but health, code and function URLs need a SigV4
// signature by one of them, or "Authorization: Bearer ACCESS_KEY:SECRET".
func (s *Server) serveLamb(w http.ResponseWriter, r *http.Request) {
	p := strings.TrimPrefix(r.URL.Path, "/_lamb/")
	if rest, ok := strings.CutPrefix(p, "urls/"); ok {
		s.serveURLByPath(w, r, rest) // function_url_gateway.go
		return
	}
	if !isInternal(r) && !lambOpen(r.URL.Path) {
		r.Body = http.MaxBytesReader(w, r.Body, maxSmallRequestBytes)
		if err := s.authenticateLamb(r); err != nil {
			writeError(w, err)
			return
		}
	}
	if rest, ok := strings.CutPrefix(p, "functions/"); ok {
		s.serveFunctionOp(w, r, rest)
		return
	}
	if rest, ok := strings.CutPrefix(p, "stacks"); ok && (rest == "" || rest[0] == '/') {
		s.serveStacks(w, r, strings.TrimPrefix(rest, "/")) // stacks.go
		return
	}
	if rest, ok := strings.CutPrefix(p, "schedules"); ok && (rest == "" || rest[0] == '/') {
		s.serveSchedules(w, r, strings.TrimPrefix(rest, "/")) // schedules.go
		return
	}
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		writeError(w, errMethodNotAllowed(r))
		return
	}
	switch {
	case p == "urls":
		s.serveURLList(w, r) // function_url_gateway.go
	case p == "instances":
		s.serveInstances(w, r)
	case p == "health":
		writeJSON(w, http.StatusOK, map[string]string{"status": "ok", "version": s.cfg.Version, "backend": s.cfg.BackendName})
	case strings.HasPrefix(p, "code/") && blobNamePattern.MatchString(strings.TrimPrefix(p, "code/")):
		s.serveBlob(w, r, strings.TrimSuffix(strings.TrimPrefix(p, "code/"), ".zip"))
	default:
		writeError(w, errNotFound("No lamb endpoint at %s", r.URL.Path))
	}
}

func (s *Server) serveBlob(w http.ResponseWriter, r *http.Request, sha string) {
	rc, size, err := s.store.OpenBlob(r.Context(), sha)
	if errors.Is(err, store.ErrNotFound) {
		writeError(w, errNotFound("The code you requested does not exist."))
		return
	}
	if err != nil {
		s.log.ErrorContext(r.Context(), "open blob", "sha256", sha, "error", err)
		writeError(w, err)
		return
	}
	defer rc.Close()
	w.Header().Set("Content-Type", "application/zip")
	w.Header().Set("Content-Length", strconv.FormatInt(size, 10))
	w.WriteHeader(http.StatusOK)
	if r.Method == http.MethodHead {
		return
	}
	if _, err := io.Copy(w, rc); err != nil {
		s.log.DebugContext(r.Context(), "send blob", "sha256", sha, "error", err)
	}
}

// lambOpen reports whether a /_lamb/ path is served without credentials:
// health (probes), zips (Code.Location is fetched unsigned, as AWS's
// presigned S3 URLs are; its hash is only learnt from a signed answer) and
// function URLs (their own AuthType decides).
func lambOpen(path string) bool {
	return path == "/_lamb/health" || strings.HasPrefix(path, "/_lamb/code/") || strings.HasPrefix(path, "/_lamb/urls/") ||
		isConsolePath(path) // the console's static assets; the calls it makes need credentials as any client's
}

// authenticateLamb accepts a bearer token ACCESS_KEY:SECRET of one of the
// credentials, for tools that cannot sign, or a SigV4 signature.
func (s *Server) authenticateLamb(r *http.Request) error {
	if tok, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer "); ok && len(s.cfg.Credentials) > 0 {
		akid, secret, _ := strings.Cut(tok, ":")
		if want, ok := s.cfg.Credentials[akid]; ok && subtle.ConstantTimeCompare([]byte(want), []byte(secret)) == 1 {
			return nil
		}
		return authError("UnrecognizedClientException", "The security token included in the request is invalid.")
	}
	return s.authenticate(r)
}
