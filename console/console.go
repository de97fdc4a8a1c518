// Package console is lamb's web console, served at /_lamb/ui/: functions, warm
// instances, an invoke form showing each answer with its log, and a live tail
// of a function's log. Its assets are embedded (go:embed) and use no
// framework; the page calls lamb's own API from lamb's own origin, which the
// browser guard allows.
package console

import (
	"embed"
	"io/fs"
	"net/http"
)

//go:embed assets
var assets embed.FS

// Handler serves the console's assets; prefix is the path it is mounted at
// ("/_lamb/ui/"). It is safe for concurrent use.
func Handler(prefix string) http.Handler {
	sub, err := fs.Sub(assets, "assets")
	if err != nil {
		panic(err) // the embedded tree always has assets/
	}
	files := http.StripPrefix(prefix, http.FileServerFS(sub))
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
			return
		}
		h := w.Header()
		// The page loads only its own scripts and talks only to lamb.
		h.Set("Content-Security-Policy", "default-src 'self'; frame-ancestors 'none'")
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("Cache-Control", "no-cache")
		files.ServeHTTP(w, r)
	})
}
