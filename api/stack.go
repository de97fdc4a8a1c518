package api

import (
	"encoding/json"
	"errors"
	"net/http"
	"regexp"

	"github.com/lambhq/lamb/store"
)

// Stacks are what `lamb deploy` made of a template: the client (package
// template) resolves and applies templates through the Lambda API and keeps
// each stack's record here, so that lamb stays the one source of truth and
// stacks are as durable as functions. lamb does not read the records beyond
// their name: they belong to the deploying client.
//
//	GET    /_lamb/stacks         {"account":...,"region":...,"stacks":[record, ...]}
//	GET    /_lamb/stacks/{name}  the record
//	PUT    /_lamb/stacks/{name}  store the record (a JSON object whose "name" is {name})
//	DELETE /_lamb/stacks/{name}  forget the stack (its resources are the client's to delete)
//
// Records are per account and region, as functions are.

var stackNamePattern = regexp.MustCompile(`^[A-Za-z][A-Za-z0-9-]{0,127}$`)

func stackKey(sc scope, name string) string { return sc.Account + "/" + sc.Region + "/" + name }

func (s *Server) serveStacks(w http.ResponseWriter, r *http.Request, name string) {
	sc := s.requestScope(r)
	ctx := r.Context()
	if name == "" {
		serveList(w, r, func() (any, error) {
			stacks := []json.RawMessage{}
			err := s.store.View(ctx, func(tx store.Tx) error {
				return tx.Scan(bucketStacks, sc.Account+"/"+sc.Region+"/", "", func(_ string, raw []byte) error {
					stacks = append(stacks, append(json.RawMessage(nil), raw...))
					return nil
				})
			})
			return map[string]any{"account": sc.Account, "region": sc.Region, "stacks": stacks}, err
		})
		return
	}
	if !stackNamePattern.MatchString(name) {
		writeError(w, errInvalidParameter("stack name %q: want letters, digits and dashes, starting with a letter, at most 128", name))
		return
	}
	key := stackKey(sc, name)
	switch r.Method {
	case http.MethodGet:
		var doc json.RawMessage
		err := s.store.View(ctx, func(tx store.Tx) error { return tx.Get(bucketStacks, key, &doc) })
		if err != nil {
			writeError(w, orNotFound(err, errNotFound("Stack not found: %s", name)))
			return
		}
		w.Header().Set("Content-Type", "application/json")
		w.Write(doc)
	case http.MethodPut:
		var doc map[string]json.RawMessage
		if err := json.NewDecoder(r.Body).Decode(&doc); err != nil {
			writeError(w, errUnparsableBody(err))
			return
		}
		var got string
		if err := json.Unmarshal(doc["name"], &got); err != nil || got != name {
			writeError(w, errInvalidParameter("the stack record's name (%q) must be the stack name of the path (%q)", got, name))
			return
		}
		if err := s.store.Update(ctx, func(tx store.Tx) error { return tx.Put(bucketStacks, key, doc) }); err != nil {
			writeError(w, err)
			return
		}
		w.WriteHeader(http.StatusNoContent)
	case http.MethodDelete:
		err := s.store.Update(ctx, func(tx store.Tx) error {
			if err := tx.Get(bucketStacks, key, new(json.RawMessage)); err != nil {
				return err
			}
			return tx.Delete(bucketStacks, key)
		})
		if err != nil {
			writeError(w, orNotFound(err, errNotFound("Stack not found: %s", name)))
			return
		}
		w.WriteHeader(http.StatusNoContent)
	default:
		writeError(w, errMethodNotAllowed(r))
	}
}

// serveList answers a collection's own path, where GET lists what list
// returns and no other method is allowed.
func serveList(w http.ResponseWriter, r *http.Request, list func() (any, error)) {
	if r.Method != http.MethodGet {
		writeError(w, errMethodNotAllowed(r))
		return
	}
	v, err := list()
	if err != nil {
		writeError(w, err)
		return
	}
	writeJSON(w, http.StatusOK, v)
}

// orNotFound is err, or nf where err is the store's ErrNotFound.
func orNotFound(err error, nf *awsError) error {
	if errors.Is(err, store.ErrNotFound) {
		return nf
	}
	return err
}
