package api

import (
	"errors"
	"net/http"
	"regexp"
	"strconv"

	"github.com/lambhq/lamb/store"
)

// Function scaling configs (Put/GetFunctionScalingConfig) bound the
// execution environments of a published version that runs on a capacity
// provider. lamb stores and answers the requested bounds; since no capacity
// provider really runs anything here, nothing applies them, so
// GetFunctionScalingConfig answers RequestedFunctionScalingConfig and no
// AppliedFunctionScalingConfig.

type functionScalingConfig struct {
	MinExecutionEnvironments *int32 `json:"MinExecutionEnvironments,omitempty"`
	MaxExecutionEnvironments *int32 `json:"MaxExecutionEnvironments,omitempty"`
}

var publishedQualifierPattern = regexp.MustCompile(`^(\$LATEST\.PUBLISHED|[0-9]+)$`)

// scalingTarget resolves the published version a scaling-config call names
// and checks it runs on a capacity provider.
func scalingTarget(tx store.Tx, c *call) (*functionRecord, error) {
	// The name is an UnqualifiedFunctionName; the version comes in the
	// Qualifier query only.
	ref, err := parseFunctionName(c.Labels["FunctionName"], c.Scope, 140)
	if err != nil {
		return nil, err
	}
	if ref.Qualifier != "" {
		var v validationError
		v.add(ref.Raw, "functionName", `Member must satisfy regular expression pattern: (arn:(aws[a-zA-Z-]*)?:lambda:)?([a-z]{2}((-gov)|(-iso([a-z]?)))?-[a-z]+-\d{1}:)?(\d{12}:)?(function:)?([a-zA-Z0-9-_]+)`)
		return nil, v.err()
	}
	if ref.Account != "" && ref.Account != c.Scope.Account {
		return nil, newError("AccessDeniedException", "")
	}
	q := c.Query.Get("Qualifier")
	var v validationError
	switch {
	case q == "":
		v.null("qualifier")
	case len(q) > 128:
		v.add(q, "qualifier", "Member must have length less than or equal to 128")
	case !publishedQualifierPattern.MatchString(q):
		v.add(q, "qualifier", `Member must satisfy regular expression pattern: (\$LATEST\.PUBLISHED|[0-9]+)`)
	}
	if err := v.err(); err != nil {
		return nil, err
	}
	latest, err := loadFunctionOr(tx, c.Scope, ref.Name, errFunctionNotFound(functionArn(c.Scope, ref.Name)))
	if err != nil {
		return nil, err
	}
	version := q
	if q == "$LATEST.PUBLISHED" {
		// The newest published version.
		versions, err := listVersionRecords(tx, c.Scope, ref.Name)
		if err != nil {
			return nil, err
		}
		if len(versions) == 0 {
			return nil, errFunctionNotFound(functionArn(c.Scope, ref.Name) + ":" + q)
		}
		version = versions[len(versions)-1].version()
	}
	f, err := loadVersion(tx, c.Scope, latest.Name, version)
	if errors.Is(err, store.ErrNotFound) {
		return nil, errFunctionNotFound(functionArn(c.Scope, ref.Name) + ":" + q)
	}
	if err != nil {
		return nil, err
	}
	if f.CapProvider == nil {
		return nil, errInvalidParameter("Function scaling configuration is only supported for functions that use a capacity provider.")
	}
	return f, nil
}

// putFunctionScalingConfig serves PutFunctionScalingConfig (202).
func (s *Server) putFunctionScalingConfig(w http.ResponseWriter, r *http.Request, c *call) error {
	var in struct {
		FunctionScalingConfig *functionScalingConfig `json:"FunctionScalingConfig"`
	}
	if err := decodeBody(r, c, &in); err != nil {
		return err
	}
	cfg := in.FunctionScalingConfig
	if cfg == nil {
		cfg = &functionScalingConfig{}
	}
	var v validationError
	for member, n := range map[string]*int32{"functionScalingConfig.minExecutionEnvironments": cfg.MinExecutionEnvironments, "functionScalingConfig.maxExecutionEnvironments": cfg.MaxExecutionEnvironments} {
		if n != nil && (*n < 0 || *n > 15000) {
			v.add(strconv.Itoa(int(*n)), member, "Member must have value between 0 and 15000")
		}
	}
	if err := v.err(); err != nil {
		return err
	}
	if cfg.MinExecutionEnvironments != nil && cfg.MaxExecutionEnvironments != nil && *cfg.MinExecutionEnvironments > *cfg.MaxExecutionEnvironments {
		return errInvalidParameter("MinExecutionEnvironments must be less than or equal to MaxExecutionEnvironments.")
	}
	var state string
	err := s.store.Update(r.Context(), func(tx store.Tx) error {
		f, err := scalingTarget(tx, c)
		if err != nil {
			return err
		}
		state = f.State
		return tx.Put(bucketFunctionSettings, qualifierKey(c.Scope, f.Name, "scaling:"+f.version()), cfg)
	})
	if err != nil {
		return err
	}
	return reply(w, c, map[string]any{"FunctionState": state})
}

// getFunctionScalingConfig serves GetFunctionScalingConfig.
func (s *Server) getFunctionScalingConfig(w http.ResponseWriter, r *http.Request, c *call) error {
	out := map[string]any{}
	err := s.store.View(r.Context(), func(tx store.Tx) error {
		f, err := scalingTarget(tx, c)
		if err != nil {
			return err
		}
		out["FunctionArn"] = f.arn() + ":" + f.version()
		var cfg functionScalingConfig
		err = tx.Get(bucketFunctionSettings, qualifierKey(c.Scope, f.Name, "scaling:"+f.version()), &cfg)
		switch {
		case err == nil:
			out["RequestedFunctionScalingConfig"] = cfg
		case !errors.Is(err, store.ErrNotFound):
			return err
		}
		return nil
	})
	if err != nil {
		return err
	}
	return reply(w, c, out)
}
