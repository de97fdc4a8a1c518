package api

import (
	"encoding/base64"
	"net/http"
	"regexp"
	"strconv"
	"strings"

	"github.com/lambhq/lamb/store"
)

var masterRegionPattern = regexp.MustCompile(`^ALL|[a-z]{2}(-gov)?-[a-z]+-\d{1}$`)

type listFunctionsOutput struct {
	Functions  []functionConfiguration `json:"Functions"`
	NextMarker string                  `json:"NextMarker,omitempty"`
}

// listFunctions serves ListFunctions, in name order. Markers are opaque
// (base64 of the next function's name).
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
	// A marker names the first entry of the next page: a function, and with
	// FunctionVersion=ALL one of its versions ("name\nqualifier"), since AWS
	// pages through versions one entry at a time.
	start, startName, startQual := "", "", ""
	if m := c.Query.Get("Marker"); m != "" {
		raw, err := base64.RawURLEncoding.DecodeString(m)
		if err != nil {
			return errInvalidParameter("Invalid marker: %s", m)
		}
		startName, startQual, _ = strings.Cut(string(raw), "\n")
		start = functionKey(c.Scope, startName)
	}
	out := listFunctionsOutput{Functions: []functionConfiguration{}}
	if master != "" {
		// Lambda@Edge replicas: lamb has none.
		writeJSON(w, c.Op.successCode(), out)
		return nil
	}
	prefix := c.Scope.Account + "/" + c.Scope.Region + "/"
	err = s.store.View(r.Context(), func(tx store.Tx) error {
		return store.Each(tx, bucketFunctions, prefix, start, func(_ string, f *functionRecord) error {
			// add appends one entry, or ends the page before it.
			skipping := f.Name == startName && startQual != ""
			add := func(qualifier string, cfg functionConfiguration) bool {
				if skipping {
					if qualifier != startQual {
						return true
					}
					skipping = false
				}
				if len(out.Functions) == maxItems {
					marker := f.Name
					if qualifier != "$LATEST" {
						marker += "\n" + qualifier
					}
					out.NextMarker = base64.RawURLEncoding.EncodeToString([]byte(marker))
					return false
				}
				out.Functions = append(out.Functions, cfg)
				return true
			}
			cfg := f.configuration()
			// ListFunctions shows neither state nor runtime version.
			cfg.State, cfg.StateReason, cfg.StateReasonCode = "", "", ""
			cfg.LastUpdateStatus, cfg.LastUpdateStatusReason, cfg.LastUpdateStatusReasonCode = "", "", ""
			cfg.RuntimeVersionConfig = nil
			if fv == "ALL" {
				cfg.FunctionArn += ":$LATEST"
			}
			if !add("$LATEST", cfg) {
				return store.ErrStop
			}
			if fv == "ALL" {
				// Published versions follow their $LATEST (versions.go).
				versions, err := listVersionRecords(tx, c.Scope, f.Name)
				if err != nil {
					return err
				}
				for _, v := range versions {
					settleVersion(v, f)
					v.shownQualifier = v.Version
					if !add(v.Version, listedConfiguration(v)) {
						return store.ErrStop
					}
				}
			}
			return nil
		})
	})
	if err != nil {
		return err
	}
	writeJSON(w, c.Op.successCode(), out)
	return nil
}

// parseMaxItems reads the MaxItems query (0 when absent), recording range
// violations in v.
func parseMaxItems(c *call, v *validationError, limit int) (int, error) {
	raw := c.Query.Get("MaxItems")
	if raw == "" {
		return 0, nil
	}
	n, err := strconv.Atoi(raw)
	if err != nil {
		return 0, newError("InvalidRequestContentException", "Could not parse MaxItems: %s is not a number", raw)
	}
	switch {
	case n < 1:
		v.add(raw, "maxItems", "Member must have value greater than or equal to 1")
	case n > limit:
		v.add(raw, "maxItems", "Member must have value less than or equal to "+strconv.Itoa(limit))
	}
	return n, nil
}
