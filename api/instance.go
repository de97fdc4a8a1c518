package api

import (
	"context"
	"net/http"
	"net/url"
	"sort"
	"strings"
	"time"
)

// instanceRow is one warm instance in GET /_lamb/instances.
type instanceRow struct {
	ID           string    `json:"id"`
	FunctionName string    `json:"function"`
	FunctionArn  string    `json:"functionArn"`
	Version      string    `json:"version"`
	Backend      string    `json:"backend"`
	State        string    `json:"state"`
	Started      time.Time `json:"started"`
	LastUsed     time.Time `json:"lastUsed"`
}

// serveInstances answers GET /_lamb/instances: every warm instance, by function.
func (s *Server) serveInstances(w http.ResponseWriter, r *http.Request) {
	rows := []instanceRow{}
	if s.cfg.Engine != nil {
		for _, in := range s.cfg.Engine.Instances() {
			rows = append(rows, instanceRow{ID: in.ID, FunctionName: in.FunctionName, FunctionArn: in.FunctionARN,
				Version: in.Version, Backend: in.Backend, State: in.State, Started: in.Started, LastUsed: in.LastUsed})
		}
	}
	sort.Slice(rows, func(i, j int) bool {
		if rows[i].FunctionArn != rows[j].FunctionArn {
			return rows[i].FunctionArn < rows[j].FunctionArn
		}
		return rows[i].Started.Before(rows[j].Started)
	})
	writeJSON(w, http.StatusOK, rows)
}

// lambFunction resolves the {name} of /_lamb/functions/{name}/... in the
// request's account and region, as the Lambda API would.
func (s *Server) lambFunction(r *http.Request, rawName string) (*functionRecord, error) {
	name, err := url.PathUnescape(rawName)
	if err != nil {
		return nil, errInvalidParameter("bad function name %q", rawName)
	}
	c := &call{Scope: s.requestScope(r), Labels: map[string]string{"FunctionName": name}, Query: url.Values{}}
	return s.lookupFunction(r.Context(), c)
}

// serveFunctionOp answers /_lamb/functions/{name}/evict (POST) and /logs (GET).
func (s *Server) serveFunctionOp(w http.ResponseWriter, r *http.Request, rest string) {
	name, op, _ := strings.Cut(rest, "/")
	fn, err := s.lambFunction(r, name)
	if err != nil {
		writeError(w, err)
		return
	}
	switch {
	case op == "evict" && r.Method == http.MethodPost:
		evicted := false
		if s.cfg.Engine != nil {
			efn, err := s.engineFunction(fn.info())
			if err == nil {
				evicted, err = s.cfg.Engine.Evict(r.Context(), efn)
			}
			if err != nil {
				writeError(w, err)
				return
			}
		}
		writeJSON(w, http.StatusOK, map[string]bool{"evicted": evicted})
	case op == "logs" && r.Method == http.MethodGet:
		s.serveLogs(w, r, fn.arn())
	default:
		writeError(w, errNotFound("No lamb endpoint at %s %s", r.Method, r.URL.Path))
	}
}

// serveLogs writes a function's recent log lines; with ?follow=true it keeps
// the response open and writes new lines as they come.
func (s *Server) serveLogs(w http.ResponseWriter, r *http.Request, arn string) {
	if s.cfg.Logbook == nil {
		writeError(w, errNotFound("this server keeps no logs"))
		return
	}
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	if r.URL.Query().Get("follow") != "true" {
		for _, l := range s.cfg.Logbook.Lines(arn) {
			w.Write(append(l, '\n'))
		}
		return
	}
	// A follower ends with its client or with the server, whichever is first.
	ctx, cancel := context.WithCancel(r.Context())
	defer cancel()
	defer context.AfterFunc(s.ctx, cancel)()
	past, ch := s.cfg.Logbook.Follow(ctx, arn)
	for _, l := range past {
		w.Write(append(l, '\n'))
	}
	flusher, _ := w.(http.Flusher)
	if flusher != nil {
		flusher.Flush()
	}
	for l := range ch {
		if _, err := w.Write(append(l, '\n')); err != nil {
			return
		}
		if flusher != nil {
			flusher.Flush()
		}
	}
}
