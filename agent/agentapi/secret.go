package agentapi

import (
	"crypto/rand"
	"crypto/subtle"
	"net/http"
	"strings"
)

// EnvSecret is the environment variable through which the host hands an
// agent its secret. The agent reads it and removes it before it starts the
// runtime: the function never sees it.
const EnvSecret = "LAMB_AGENT_SECRET"

// authScheme is how requests carry the secret: Authorization: Bearer <secret>.
const authScheme = "Bearer "

// NewSecret returns a fresh secret for one sandbox (128 random bits).
func NewSecret() string { return rand.Text() }

// setSecret puts secret on a request to the agent.
func setSecret(h http.Header, secret string) {
	h.Set("Authorization", authScheme+secret)
}

// RequireSecret wraps h so that it serves only requests that carry secret:
// one without an Authorization header gets 401, one with another secret 403,
// and neither reaches h (no event stream is taken over, nothing is invoked,
// no tunnel is handed out). The comparison takes the same time whatever the
// secret sent. An empty secret refuses every request.
func RequireSecret(secret string, h http.Handler) http.Handler {
	want := []byte(secret)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		auth := r.Header.Get("Authorization")
		if auth == "" {
			w.Header().Set("WWW-Authenticate", `Bearer realm="lamb-agent"`)
			http.Error(w, "lamb agent: no secret", http.StatusUnauthorized)
			return
		}
		got, ok := strings.CutPrefix(auth, authScheme)
		if !ok || len(want) == 0 || subtle.ConstantTimeCompare([]byte(got), want) != 1 {
			http.Error(w, "lamb agent: wrong secret", http.StatusForbidden)
			return
		}
		h.ServeHTTP(w, r)
	})
}
