package api

import (
	"net/http"
	"regexp"
	"strings"

	"github.com/lambhq/lamb/store"
)

var masterRegionPattern = regexp.MustCompile(`^ALL|[a-z]{2}(-gov)?-[a-z]+-\d{1}$`)

type listFunctionsOutput struct {
	Functions  []functionConfiguration `json:"Functions"`
	NextMarker string                  `json:"NextMarker,omitempty"`
}

// listFunctions serves ListFunctions, in name order.
func (s *Server) listFunctions(w http.ResponseWriter, r *http.Request, c *call) error {
	var v validationError
	fv := c.Query.Get("FunctionVersion")
	if fv != "" && fv != "ALL" {
		v.add(fv, "functionVersion", "Member must satisfy enum value set: [ALL]")
	}
	master := c.Query.Get("MasterRegion")
	if master != "" && !masterRegionPattern.MatchString(master) {
		v.add(master, "masterRegion", `Member must satisfy regular expression pattern: ALL|[a-z]{2}(-gov)?-[a-z]+-\d{1}`)
	}
	maxItems, err := parseMaxItems(c, &v, 10000)
	if err != nil {
		return err
	}
	if err := v.err(); err != nil {
		return err
	}
	if master != "" && fv != "ALL" {
		return errInvalidParameter("Invalid FunctionVersion parameter value. Only 'ALL' is supported when MasterRegion is specified.")
	}
	if maxItems == 0 {
		maxItems = 50
	}
	// The entries are the functions, each followed with FunctionVersion=ALL
	// by its published versions (versions.go), since AWS pages through
	// versions one entry at a time: keyed "name" and "name\nversion".
	p, err := newPage[functionConfiguration](c, maxItems)
	if err != nil {
		return err
	}
	if master != "" {
		// Lambda@Edge replicas: lamb has none.
		return reply(w, c, listFunctionsOutput{Functions: p.items})
	}
	prefix := c.Scope.Account + "/" + c.Scope.Region + "/"
	// The scan resumes at the marker's function; a marker naming one of its
	// versions skips up to that.
	var start string
	if name, _, isVersion := strings.Cut(p.from, "\n"); isVersion {
		start = functionKey(c.Scope, name)
	} else {
		start = p.resumeAt(prefix)
	}
	err = s.store.View(r.Context(), func(tx store.Tx) error {
		return store.Each(tx, bucketFunctions, prefix, start, func(_ string, f *functionRecord) error {
			cfg := listedConfiguration(f)
			if fv == "ALL" {
				cfg.FunctionArn += ":$LATEST"
			}
			if !p.add(f.Name, cfg) {
				return store.ErrStop
			}
			if fv != "ALL" {
				return nil
			}
			versions, err := listVersionRecords(tx, c.Scope, f.Name)
			if err != nil {
				return err
			}
			for _, v := range versions {
				settleVersion(v, f)
				v.shownQualifier = v.Version
				if !p.add(f.Name+"\n"+v.Version, listedConfiguration(v)) {
					return store.ErrStop
				}
			}
			return nil
		})
	})
	if err != nil {
		return err
	}
	return reply(w, c, listFunctionsOutput{Functions: p.items, NextMarker: p.next})
}
