package api

import (
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/felixge/httpsnoop"
)

// APIObserver is told of every API request served (lamb's metrics): api is
// "lambda" or "logs", operation the operation's name ("Unknown" when the
// request matched none), code the HTTP status answered. It must not block.
type APIObserver interface {
	APIRequest(api, operation string, code int)
}

// observe serves r with serve, which returns the operation's name, and
// reports it with the status code answered.
func (s *Server) observe(w http.ResponseWriter, r *http.Request, api string, serve func(w http.ResponseWriter, r *http.Request) string) {
	if s.cfg.Observer == nil {
		serve(w, r)
		return
	}
	op := "Unknown"
	m := httpsnoop.CaptureMetricsFn(w, func(w http.ResponseWriter) { op = serve(w, r) })
	s.cfg.Observer.APIRequest(api, op, m.Code)
}

// serveMetrics answers GET /metrics with cfg.Metrics. It sits behind the
// browser guard, and with --credentials it wants them as /_lamb/ does: a
// SigV4 signature or "Authorization: Bearer ACCESS_KEY:SECRET" (which
// Prometheus sends with authorization: {credentials: ACCESS_KEY:SECRET}).
func (s *Server) serveMetrics(w http.ResponseWriter, r *http.Request) {
	if s.cfg.Metrics == nil {
		writeError(w, errNotFound("this server keeps no metrics"))
		return
	}
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		writeError(w, errMethodNotAllowed(r))
		return
	}
	if !isInternal(r) {
		r.Body = http.MaxBytesReader(w, r.Body, maxSmallRequestBytes)
		if err := s.authenticateLamb(r); err != nil {
			writeError(w, err)
			return
		}
	}
	s.cfg.Metrics.ServeHTTP(w, r)
}

// AsyncQueueStats reports the queue of Event invocations: events stored and
// not finished, their records' bytes, and the first enqueue of the oldest
// one waiting to run (zero when none waits).
func (s *Server) AsyncQueueStats() (events int, bytes int64, oldest time.Time) {
	q := &s.async
	q.mu.Lock()
	defer q.mu.Unlock()
	for _, it := range q.ready {
		if t, ok := asyncKeyTime(it.key); ok && (oldest.IsZero() || t.Before(oldest)) {
			oldest = t
		}
	}
	return q.count, q.bytes, oldest
}

// asyncKeyTime reads the first enqueue out of an asyncEventKey.
func asyncKeyTime(key string) (time.Time, bool) {
	parts := strings.SplitN(key, "/", 4)
	if len(parts) != 4 {
		return time.Time{}, false
	}
	ns, err := strconv.ParseInt(parts[2], 10, 64)
	if err != nil {
		return time.Time{}, false
	}
	return time.Unix(0, ns), true
}

// isConsolePath reports whether path is the web console's (/_lamb/ui/...).
func isConsolePath(path string) bool {
	return path == "/_lamb/ui" || strings.HasPrefix(path, "/_lamb/ui/")
}

// serveConsole serves the console's assets (cfg.Console), redirecting
// /_lamb/ui to /_lamb/ui/ so that the page's relative links resolve.
func (s *Server) serveConsole(w http.ResponseWriter, r *http.Request) {
	if s.cfg.Console == nil {
		writeError(w, errNotFound("this server has no console"))
		return
	}
	if r.URL.Path == "/_lamb/ui" {
		http.Redirect(w, r, "/_lamb/ui/", http.StatusMovedPermanently)
		return
	}
	s.cfg.Console.ServeHTTP(w, r)
}
