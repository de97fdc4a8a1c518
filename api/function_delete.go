package api

import (
	"errors"
	"net/http"
	"strings"

	"github.com/lambhq/lamb/store"
)

// deleteFunction serves DeleteFunction. The model gives no success code; AWS
// answers 204, so lamb does too.
func (s *Server) deleteFunction(w http.ResponseWriter, r *http.Request, c *call) error {
	ref, err := resolveFunction(c)
	if err != nil {
		return err
	}
	if ref.Qualifier == "$LATEST" {
		return errInvalidParameter("$LATEST version cannot be deleted without deleting the function.")
	}
	if ref.Qualifier != "" {
		// A version (or an alias, which AWS refuses) instead of the function.
		// A qualifier with a '$' names no alias: AWS looks it up like a
		// version (and answers "Function not found" without it).
		if !isVersionNumber(ref.Qualifier) && !strings.Contains(ref.Qualifier, "$") {
			return errInvalidParameter("Deletion of aliases is not currently supported.") // AWS's words
		}
		if err := s.deleteVersion(r.Context(), c.Scope, ref); err != nil {
			return err
		}
		s.requestSweep() // the version's code may be garbage now (gc.go)
		w.WriteHeader(http.StatusNoContent)
		return nil
	}
	var deleted *functionRecord
	err = s.store.Update(r.Context(), func(tx store.Tx) error {
		f, err := loadFunction(tx, c.Scope, ref.Name)
		if err != nil {
			return err
		}
		deleted = f
		return forget(tx, delFunction, c.Scope, ref.Name, "")
	})
	if errors.Is(err, store.ErrNotFound) {
		return errFunctionNotFound(ref.notFoundArn(c.Scope))
	}
	if err != nil {
		return err
	}
	// A deleted function's warm instances go with it, and its folder's watch.
	s.evict(r.Context(), deleted)
	s.forgetHotReload(functionKey(c.Scope, ref.Name)) // hot_reload.go
	// Its code blobs go unless another function, version or layer shares them (gc.go).
	s.requestSweep()
	w.WriteHeader(http.StatusNoContent)
	return nil
}
