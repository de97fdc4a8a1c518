package api

import (
	"errors"
	"math/rand/v2"
	"net/http"
	"regexp"
	"sort"
	"strconv"
	"strings"

	"github.com/lambhq/lamb/store"
)

// aliasRecord is an alias as stored. Weights is the routing configuration:
// at most one other version and the share of calls it gets.
type aliasRecord struct {
	Name            string             `json:"name"`
	FunctionVersion string             `json:"functionVersion"`
	Description     string             `json:"description"`
	Weights         map[string]float64 `json:"weights,omitempty"`
	RevisionID      string             `json:"revisionId"`
}

const aliasNamePatternText = `(?!^[0-9]+$)([a-zA-Z0-9-_]+)`

var aliasNamePattern = regexp.MustCompile(`^[a-zA-Z0-9-_]+$`)

func aliasKey(sc scope, fn, alias string) string { return functionKey(sc, fn) + "/" + alias }

func loadAlias(tx store.Tx, sc scope, fn, alias string) (*aliasRecord, error) {
	return store.Load[aliasRecord](tx, bucketAliases, aliasKey(sc, fn, alias))
}

// listAliasRecords returns a function's aliases in name order.
func listAliasRecords(tx store.Tx, sc scope, fn string) ([]*aliasRecord, error) {
	return store.All[aliasRecord](tx, bucketAliases, functionKey(sc, fn)+"/")
}

// pickWeighted chooses the version of one invocation through an alias: the
// additional version with its weight's probability, else the primary.
func pickWeighted(a *aliasRecord) string {
	if len(a.Weights) == 0 {
		return a.FunctionVersion
	}
	x := rand.Float64()
	for v, w := range a.Weights {
		if x < w {
			return v
		}
		x -= w
	}
	return a.FunctionVersion
}

type aliasConfiguration struct {
	AliasArn        string         `json:"AliasArn"`
	Description     string         `json:"Description"`
	FunctionVersion string         `json:"FunctionVersion"`
	Name            string         `json:"Name"`
	RevisionID      string         `json:"RevisionId"`
	RoutingConfig   *routingConfig `json:"RoutingConfig,omitempty"`
}

type routingConfig struct {
	AdditionalVersionWeights map[string]float64 `json:"AdditionalVersionWeights"`
}

func (a *aliasRecord) configuration(sc scope, fn string) aliasConfiguration {
	out := aliasConfiguration{
		AliasArn: functionArn(sc, fn) + ":" + a.Name, Description: a.Description,
		FunctionVersion: a.FunctionVersion, Name: a.Name, RevisionID: a.RevisionID,
	}
	if len(a.Weights) > 0 {
		out.RoutingConfig = &routingConfig{AdditionalVersionWeights: a.Weights}
	}
	return out
}

// javaDouble prints a float as Java's Double.toString does in AWS's messages.
func javaDouble(f float64) string {
	if f == float64(int64(f)) {
		return strconv.FormatFloat(f, 'f', 1, 64)
	}
	return strconv.FormatFloat(f, 'g', -1, 64)
}

// javaMap prints a weight map as Java's Map.toString ({2=0.5}).
func javaMap(m map[string]float64) string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	parts := make([]string, len(keys))
	for i, k := range keys {
		parts[i] = k + "=" + javaDouble(m[k])
	}
	return "{" + strings.Join(parts, ", ") + "}"
}

type aliasInput struct {
	Name            *string `json:"Name"`
	FunctionVersion *string `json:"FunctionVersion"`
	Description     *string `json:"Description"`
	RoutingConfig   *struct {
		AdditionalVersionWeights map[string]float64 `json:"AdditionalVersionWeights"`
	} `json:"RoutingConfig"`
	RevisionID *string `json:"RevisionId"`
}

func (in *aliasInput) weights() map[string]float64 {
	if in.RoutingConfig == nil {
		return nil
	}
	return in.RoutingConfig.AdditionalVersionWeights
}

// validateAliasInput applies the model's constraints (ValidationException).
func validateAliasInput(in *aliasInput, create bool) error {
	var v validationError
	if create {
		switch {
		case in.Name == nil:
			v.null("name")
		case len(*in.Name) > 128:
			v.add(*in.Name, "name", "Member must have length less than or equal to 128")
		case !aliasNamePattern.MatchString(*in.Name) || isVersionNumber(*in.Name):
			v.add(*in.Name, "name", "Member must satisfy regular expression pattern: "+aliasNamePatternText)
		}
		if in.FunctionVersion == nil {
			v.null("functionVersion")
		}
	}
	if in.FunctionVersion != nil && (len(*in.FunctionVersion) > 1024 || !regexp.MustCompile(`^(\$LATEST|[0-9]+)$`).MatchString(*in.FunctionVersion)) {
		v.add(*in.FunctionVersion, "functionVersion", `Member must satisfy regular expression pattern: (\$LATEST|[0-9]+)`)
	}
	if in.Description != nil && len(*in.Description) > 256 {
		v.add(*in.Description, "description", "Member must have length less than or equal to 256")
	}
	w := in.weights()
	for k := range w {
		if !isVersionNumber(k) || len(k) > 1024 {
			v.add(javaMap(w), "routingConfig.additionalVersionWeights", "Map keys must satisfy constraint: [Member must have length less than or equal to 1024, Member must have length greater than or equal to 1, Member must satisfy regular expression pattern: [0-9]+]")
			break
		}
	}
	for _, x := range w {
		if x < 0 || x > 1 {
			v.add(javaMap(w), "routingConfig.additionalVersionWeights", "Map value must satisfy constraint: [Member must have value less than or equal to 1.0, Member must have value greater than or equal to 0.0, Member must not be null]")
			break
		}
	}
	return v.err()
}

// checkAliasTargets checks that the versions an alias points to exist.
func checkAliasTargets(tx store.Tx, latest *functionRecord, version string, weights map[string]float64) error {
	if len(weights) > 1 {
		return errInvalidParameter("Number of items in AdditionalVersionWeights cannot be greater than 1")
	}
	exists := func(v string) error {
		if v == "$LATEST" {
			return nil
		}
		_, err := loadVersion(tx, latest.scope(), latest.Name, v)
		if errors.Is(err, store.ErrNotFound) {
			return errFunctionNotFound(latest.arn() + ":" + v)
		}
		return err
	}
	if err := exists(version); err != nil {
		return err
	}
	if len(weights) > 0 && version == "$LATEST" {
		e := errInvalidParameter("$LATEST is not supported for an alias pointing to more than 1 version")
		e.NoType = true // as AWS answers it
		return e
	}
	for k := range weights {
		if k == version {
			return errInvalidParameter("Invalid function version %s. Function version %s is already included in routing configuration.", k, k)
		}
		if err := exists(k); err != nil {
			return err
		}
	}
	return nil
}

// createAlias serves CreateAlias (201).
func (s *Server) createAlias(w http.ResponseWriter, r *http.Request, c *call) error {
	ref, in, err := readRequest[aliasInput](r, c, resolveFunction)
	if err != nil {
		return err
	}
	if err := validateAliasInput(in, true); err != nil {
		return err
	}
	a := &aliasRecord{Name: *in.Name, FunctionVersion: *in.FunctionVersion, RevisionID: newRevisionID()}
	if in.Description != nil {
		a.Description = *in.Description
	}
	if w := in.weights(); len(w) > 0 {
		a.Weights = w
	}
	err = s.store.Update(r.Context(), func(tx store.Tx) error {
		latest, err := loadFunctionOr(tx, c.Scope, ref.Name, errFunctionNotFound(functionArn(c.Scope, ref.Name)+":"+a.FunctionVersion))
		if err != nil {
			return err
		}
		if err := checkAliasTargets(tx, latest, a.FunctionVersion, in.weights()); err != nil {
			return err
		}
		if _, err := loadAlias(tx, c.Scope, ref.Name, a.Name); err == nil {
			return errConflict("Alias already exists: %s:%s", latest.arn(), a.Name)
		} else if !errors.Is(err, store.ErrNotFound) {
			return err
		}
		return tx.Put(bucketAliases, aliasKey(c.Scope, ref.Name, a.Name), a)
	})
	if err != nil {
		return err
	}
	return reply(w, c, a.configuration(c.Scope, ref.Name))
}

// getAlias serves GetAlias.
func (s *Server) getAlias(w http.ResponseWriter, r *http.Request, c *call) error {
	ref, err := resolveFunction(c)
	if err != nil {
		return err
	}
	name := c.Labels["Name"]
	var a *aliasRecord
	err = s.store.View(r.Context(), func(tx store.Tx) error {
		latest, err := loadRefFunction(tx, c.Scope, ref)
		if err != nil {
			return err
		}
		a, err = loadAlias(tx, c.Scope, ref.Name, name)
		if errors.Is(err, store.ErrNotFound) {
			return errNotFound("Cannot find alias arn: %s:%s", latest.arn(), name)
		}
		return err
	})
	if err != nil {
		return err
	}
	return reply(w, c, a.configuration(c.Scope, ref.Name))
}

// updateAlias serves UpdateAlias.
func (s *Server) updateAlias(w http.ResponseWriter, r *http.Request, c *call) error {
	ref, in, err := readRequest[aliasInput](r, c, resolveFunction)
	if err != nil {
		return err
	}
	name := c.Labels["Name"]
	if err := validateAliasInput(in, false); err != nil {
		return err
	}
	var (
		a     *aliasRecord
		moved bool // a provisioned alias now routes to other versions
	)
	err = s.store.Update(r.Context(), func(tx store.Tx) error {
		latest, err := loadRefFunction(tx, c.Scope, ref)
		if err != nil {
			return err
		}
		a, err = loadAlias(tx, c.Scope, ref.Name, name)
		if errors.Is(err, store.ErrNotFound) {
			return errNotFound("Alias not found: %s:%s", latest.arn(), name)
		}
		if err != nil {
			return err
		}
		if in.RevisionID != nil && *in.RevisionID != "" && *in.RevisionID != a.RevisionID {
			return errPreconditionFailed()
		}
		before := *a
		if in.FunctionVersion != nil {
			a.FunctionVersion = *in.FunctionVersion
		}
		if in.Description != nil {
			a.Description = *in.Description
		}
		if in.RoutingConfig != nil {
			a.Weights = in.weights()
			if len(a.Weights) == 0 {
				a.Weights = nil
			}
		}
		if err := checkAliasTargets(tx, latest, a.FunctionVersion, a.Weights); err != nil {
			return err
		}
		a.RevisionID = newRevisionID()
		if moved = aliasMoved(&before, a); moved {
			// Its provisioned instances move to the new versions.
			if moved, err = reallocateProvisioned(tx, c.Scope, ref.Name, a.Name); err != nil {
				return err
			}
		}
		return tx.Put(bucketAliases, aliasKey(c.Scope, ref.Name, a.Name), a)
	})
	if err != nil {
		return err
	}
	if moved {
		s.syncProvisioned(c.Scope, ref.Name)
	}
	return reply(w, c, a.configuration(c.Scope, ref.Name))
}

// deleteAlias serves DeleteAlias (204, also for an alias that does not exist).
func (s *Server) deleteAlias(w http.ResponseWriter, r *http.Request, c *call) error {
	ref, err := resolveFunction(c)
	if err != nil {
		return err
	}
	name := c.Labels["Name"]
	var provisioned bool // the alias kept provisioned instances: release them
	err = s.store.Update(r.Context(), func(tx store.Tx) error {
		if _, err := loadRefFunction(tx, c.Scope, ref); err != nil {
			return err
		}
		var p provisionedRecord
		provisioned = tx.Get(bucketProvisioned, qualifierKey(c.Scope, ref.Name, name), &p) == nil
		return forget(tx, delAlias, c.Scope, ref.Name, name)
	})
	if err != nil {
		return err
	}
	if provisioned {
		s.syncProvisioned(c.Scope, ref.Name)
	}
	return replyEmpty(w, c)
}

type listAliasesOutput struct {
	Aliases    []aliasConfiguration `json:"Aliases"`
	NextMarker string               `json:"NextMarker,omitempty"`
}

// listAliases serves ListAliases in name order (?FunctionVersion= filters).
func (s *Server) listAliases(w http.ResponseWriter, r *http.Request, c *call) error {
	ref, maxItems, err := listRequest(c, resolveFunction, 10000, 50)
	if err != nil {
		return err
	}
	fv := c.Query.Get("FunctionVersion")
	var p *listPage[aliasConfiguration]
	err = s.store.View(r.Context(), func(tx store.Tx) error {
		if _, err := loadRefFunction(tx, c.Scope, ref); err != nil {
			return err
		}
		if p, err = newPage[aliasConfiguration](c, maxItems); err != nil {
			return err
		}
		prefix := functionKey(c.Scope, ref.Name) + "/"
		return scanPage(tx, p, bucketAliases, prefix, func(a *aliasRecord) (string, aliasConfiguration, bool) {
			return a.Name, a.configuration(c.Scope, ref.Name), fv == "" || a.FunctionVersion == fv
		})
	})
	if err != nil {
		return err
	}
	return reply(w, c, listAliasesOutput{Aliases: p.items, NextMarker: p.next})
}
