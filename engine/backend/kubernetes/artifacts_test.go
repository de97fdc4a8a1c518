package kubernetes

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/lambhq/lamb/engine/backend"
)

func testArtifact(data []byte) backend.Artifact {
	sum := sha256.Sum256(data)
	return backend.Artifact{SHA256: hex.EncodeToString(sum[:]), Size: int64(len(data)),
		Open: func(context.Context) (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(data)), nil }}
}

func TestArtifactHandler(t *testing.T) {
	a := testArtifact([]byte("zip bytes"))
	var reg artifacts
	if err := reg.add(a); err != nil {
		t.Fatal(err)
	}
	h := ArtifactHandler("s3cret", reg.lookup)
	unknown := sha256.Sum256([]byte("other"))
	cases := []struct {
		name, method, path, auth string
		want                     int
		body                     string
	}{
		{"no token", "GET", ArtifactPath + a.SHA256, "", http.StatusUnauthorized, ""},
		{"basic auth", "GET", ArtifactPath + a.SHA256, "Basic czNjcmV0", http.StatusUnauthorized, ""},
		{"empty bearer", "GET", ArtifactPath + a.SHA256, "Bearer ", http.StatusUnauthorized, ""},
		{"wrong token", "GET", ArtifactPath + a.SHA256, "Bearer s3cre", http.StatusForbidden, ""},
		{"wrong token, unknown path", "GET", "/_lamb/internal/other", "Bearer nope", http.StatusForbidden, ""},
		{"right token", "GET", ArtifactPath + a.SHA256, "Bearer s3cret", http.StatusOK, "zip bytes"},
		{"scheme case", "GET", ArtifactPath + a.SHA256, "bearer s3cret", http.StatusOK, "zip bytes"},
		{"unknown artifact", "GET", ArtifactPath + hex.EncodeToString(unknown[:]), "Bearer s3cret", http.StatusNotFound, ""},
		{"bad sha", "GET", ArtifactPath + "../../etc/passwd", "Bearer s3cret", http.StatusNotFound, ""},
		{"post", "POST", ArtifactPath + a.SHA256, "Bearer s3cret", http.StatusMethodNotAllowed, ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r := httptest.NewRequest(c.method, c.path, nil)
			if c.auth != "" {
				r.Header.Set("Authorization", c.auth)
			}
			w := httptest.NewRecorder()
			h.ServeHTTP(w, r)
			if w.Code != c.want {
				t.Fatalf("status %d, want %d (%s)", w.Code, c.want, w.Body)
			}
			if c.body != "" && w.Body.String() != c.body {
				t.Fatalf("body %q, want %q", w.Body, c.body)
			}
		})
	}
}

func TestArtifactHandlerEmptyTokenRefusesAll(t *testing.T) {
	a := testArtifact([]byte("x"))
	h := ArtifactHandler("", func(string) (backend.Artifact, bool) { return a, true })
	r := httptest.NewRequest("GET", ArtifactPath+a.SHA256, nil)
	r.Header.Set("Authorization", "Bearer anything")
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	if w.Code != http.StatusForbidden {
		t.Fatalf("status %d, want 403", w.Code)
	}
}

func TestArtifactsRefCount(t *testing.T) {
	var reg artifacts
	a, b := testArtifact([]byte("a")), testArtifact([]byte("b"))
	if err := reg.add(a, b); err != nil {
		t.Fatal(err)
	}
	if err := reg.add(a); err != nil {
		t.Fatal(err)
	}
	reg.release(a, b)
	if _, ok := reg.lookup(a.SHA256); !ok {
		t.Fatal("a released while still referenced")
	}
	if _, ok := reg.lookup(b.SHA256); ok {
		t.Fatal("b still served after its last release")
	}
	reg.release(a)
	if _, ok := reg.lookup(a.SHA256); ok {
		t.Fatal("a still served after its last release")
	}
	if err := reg.add(backend.Artifact{SHA256: "nope"}); err == nil {
		t.Fatal("bad artifact accepted")
	}
}
