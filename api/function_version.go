package api

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"regexp"
	"strconv"

	"github.com/lambhq/lamb/store"
)

// Published versions: frozen copies of $LATEST (code and configuration) with a
// number. Numbers are never reused while the function exists, as on AWS;
// deleting the function forgets them (bucketVersions, schema.go).

var versionNumberPattern = regexp.MustCompile(`^[0-9]+$`)

func isVersionNumber(q string) bool { return versionNumberPattern.MatchString(q) }

// version is "$LATEST" or the published version's number.
func (f *functionRecord) version() string {
	if f.Version == "" {
		return "$LATEST"
	}
	return f.Version
}

// qualifierSuffix is ":<qualifier>" when the caller addressed one.
func (f *functionRecord) qualifierSuffix() string {
	if f.shownQualifier == "" {
		return ""
	}
	return ":" + f.shownQualifier
}

func versionPrefix(sc scope, name string) string { return functionKey(sc, name) + "/" }

func versionKey(sc scope, name, version string) string {
	n, _ := strconv.ParseUint(version, 10, 64)
	return fmt.Sprintf("%s%010d", versionPrefix(sc, name), n)
}

// loadVersion reads a published version; ErrNotFound (wrapped) when absent.
func loadVersion(tx store.Tx, sc scope, name, version string) (*functionRecord, error) {
	return store.Load[functionRecord](tx, bucketVersions, versionKey(sc, name, version))
}

// listVersionRecords returns a function's published versions, oldest first.
func listVersionRecords(tx store.Tx, sc scope, name string) ([]*functionRecord, error) {
	return store.All[functionRecord](tx, bucketVersions, versionPrefix(sc, name))
}

// settleVersion fills in what a version shares with its function (reserved
// concurrency, tags) and finishes its state: a version published while
// $LATEST was being prepared is Pending until that preparation ended.
func settleVersion(v, latest *functionRecord) {
	v.ReservedConcurrency = latest.ReservedConcurrency
	v.Tags = latest.Tags
	if v.State != "Pending" {
		return
	}
	latestSettled := latest.State != "Pending" && latest.LastUpdateStatus != "InProgress"
	switch {
	case latest.Generation == v.Generation && latestSettled && latest.State == "Failed":
		v.State, v.StateReason, v.StateReasonCode = "Failed", latest.StateReason, latest.StateReasonCode
		v.LastUpdateStatus = "Failed"
	case latest.Generation > v.Generation || latestSettled:
		v.State, v.StateReason, v.StateReasonCode = "Active", "", ""
		v.LastUpdateStatus = "Successful"
	}
}

// resolveQualifier returns the record qualifier names for latest's function:
// $LATEST itself, a published version or an alias's version. pick chooses the
// version of an alias (weighted routing for Invoke); nil takes the alias's
// primary version.
func resolveQualifier(tx store.Tx, latest *functionRecord, qualifier string, pick func(*aliasRecord) string) (*functionRecord, error) {
	sc := latest.scope()
	switch {
	case qualifier == "":
		return latest, nil
	case qualifier == "$LATEST":
		latest.shownQualifier = qualifier
		return latest, nil
	case isVersionNumber(qualifier):
		v, err := loadVersion(tx, sc, latest.Name, qualifier)
		if errors.Is(err, store.ErrNotFound) {
			return nil, errFunctionNotFound(latest.arn() + ":" + qualifier)
		}
		if err != nil {
			return nil, err
		}
		settleVersion(v, latest)
		v.shownQualifier = qualifier
		return v, nil
	}
	a, err := loadAlias(tx, sc, latest.Name, qualifier)
	if errors.Is(err, store.ErrNotFound) {
		return nil, errFunctionNotFound(latest.arn() + ":" + qualifier)
	}
	if err != nil {
		return nil, err
	}
	target := a.FunctionVersion
	if pick != nil {
		target = pick(a)
	}
	if target == "$LATEST" {
		latest.shownQualifier = qualifier
		return latest, nil
	}
	v, err := loadVersion(tx, sc, latest.Name, target)
	if err != nil {
		return nil, fmt.Errorf("alias %s points to version %s: %w", qualifier, target, err)
	}
	settleVersion(v, latest)
	v.shownQualifier = qualifier
	return v, nil
}

// loadQualified loads the function ref names in sc, resolving its qualifier.
// Errors are AWS-shaped.
func (s *Server) loadQualified(ctx context.Context, sc scope, ref functionRef, pick func(*aliasRecord) string) (*functionRecord, error) {
	return s.loadResolved(ctx, ref.Qualifier, pick, func(tx store.Tx) (*functionRecord, error) {
		return loadRefFunction(tx, sc, ref)
	})
}

// loadResolved resolves qualifier against the $LATEST record latest reads,
// in one read transaction, and resumes $LATEST's preparation if it was cut
// short.
func (s *Server) loadResolved(ctx context.Context, qualifier string, pick func(*aliasRecord) string, latest func(store.Tx) (*functionRecord, error)) (*functionRecord, error) {
	var f *functionRecord
	err := s.store.View(ctx, func(tx store.Tx) error {
		l, err := latest(tx)
		if err != nil {
			return err
		}
		f, err = resolveQualifier(tx, l, qualifier, pick)
		return err
	})
	if err != nil {
		return nil, err
	}
	if f.Version == "" {
		s.resumePrepare(f)
	}
	return f, nil
}

// lookupInvokeTarget is lookupFunction for Invoke: an alias with a routing
// configuration picks its version per call by weight.
//
// It also returns the ARN the caller addressed, as the function sees it:
// qualified only when the caller gave a qualifier.
func (s *Server) lookupInvokeTarget(ctx context.Context, c *call) (*functionRecord, string, error) {
	ref, err := resolveFunction(c)
	if err != nil {
		return nil, "", err
	}
	invoked := ref.arn(c.Scope)
	if ref.Qualifier == "" {
		ref.Qualifier = "$LATEST" // AWS names $LATEST when the function is missing
	}
	f, err := s.loadInvokeTarget(ctx, c.Scope, ref) // invoke.go: cached
	return f, invoked, err
}

// unchangedSince reports whether latest is what version v was published
// from: nothing was updated since (LastModified moves with every update).
func unchangedSince(v, latest *functionRecord) bool {
	return v.LastModified.Equal(latest.LastModified) && v.CodeSHA256 == latest.CodeSHA256
}

// publishTx publishes latest as a new version, unless the newest version
// already has the same code and configuration (AWS answers that one again).
// description overrides the function's description when given.
func publishTx(tx store.Tx, latest *functionRecord, description *string) (v *functionRecord, created bool, err error) {
	sc := latest.scope()
	versions, err := listVersionRecords(tx, sc, latest.Name)
	if err != nil {
		return nil, false, err
	}
	if n := len(versions); n > 0 && unchangedSince(versions[n-1], latest) {
		v := versions[n-1]
		settleVersion(v, latest)
		return v, false, nil
	}
	var last int64
	if err := tx.Get(bucketVersionCounters, functionKey(sc, latest.Name), &last); err != nil && !errors.Is(err, store.ErrNotFound) {
		return nil, false, err
	}
	last++
	nv := *latest
	v = &nv
	v.Version = strconv.FormatInt(last, 10)
	v.RevisionID = newRevisionID()
	v.Tags, v.ReservedConcurrency = nil, nil
	if description != nil {
		v.Description = *description
	}
	v.LastUpdateStatusReason, v.LastUpdateStatusReasonCode = "", ""
	if latest.State == "Pending" || latest.LastUpdateStatus == "InProgress" {
		// Published while $LATEST is being prepared: the version is being
		// created with it (settleVersion finishes it).
		v.State, v.StateReason, v.StateReasonCode = "Pending", "The function is being created.", "Creating"
		v.LastUpdateStatus = ""
	} else {
		v.State, v.StateReason, v.StateReasonCode = latest.State, latest.StateReason, latest.StateReasonCode
		v.LastUpdateStatus = "Successful"
	}
	if err := tx.Put(bucketVersionCounters, functionKey(sc, latest.Name), last); err != nil {
		return nil, false, err
	}
	if err := tx.Put(bucketVersions, versionKey(sc, latest.Name, v.Version), v); err != nil {
		return nil, false, err
	}
	return v, true, nil
}

// publishVersionInput is the PublishVersion request body.
type publishVersionInput struct {
	CodeSha256  *string `json:"CodeSha256"`
	Description *string `json:"Description"`
	RevisionID  *string `json:"RevisionId"`
}

// publishVersion serves PublishVersion (201).
func (s *Server) publishVersion(w http.ResponseWriter, r *http.Request, c *call) error {
	ref, in, err := readRequest[publishVersionInput](r, c, resolveFunction)
	if err != nil {
		return err
	}
	if in.Description != nil && len(*in.Description) > 256 {
		var v validationError
		v.add(*in.Description, "description", "Member must have length less than or equal to 256")
		return v.err()
	}
	var out *functionRecord
	err = s.store.Update(r.Context(), func(tx store.Tx) error {
		latest, err := loadRefFunction(tx, c.Scope, ref)
		if err != nil {
			return err
		}
		if in.RevisionID != nil && *in.RevisionID != "" && *in.RevisionID != latest.RevisionID {
			return errPreconditionFailed()
		}
		if in.CodeSha256 != nil && *in.CodeSha256 != "" && *in.CodeSha256 != latest.CodeSHA256 {
			return errInvalidParameter("CodeSHA256 (%s) is different from current CodeSHA256 in $LATEST (%s). Please try again with the CodeSHA256 in $LATEST.", *in.CodeSha256, latest.CodeSHA256)
		}
		if latest.State == "Pending" || latest.LastUpdateStatus == "InProgress" {
			return errConflict("The operation cannot be performed at this time. An update is in progress for resource: %s", latest.arn())
		}
		var created bool
		if out, created, err = publishTx(tx, latest, in.Description); err != nil || !created {
			return err
		}
		// AWS gives $LATEST a new RevisionId when it publishes a version of it.
		latest.RevisionID = newRevisionID()
		return tx.Put(bucketFunctions, functionKey(c.Scope, latest.Name), latest)
	})
	if err != nil {
		return err
	}
	out.shownQualifier = out.Version
	return reply(w, c, out.configuration())
}

type listVersionsOutput struct {
	Versions   []functionConfiguration `json:"Versions"`
	NextMarker string                  `json:"NextMarker,omitempty"`
}

// listedConfiguration is a configuration as the List operations show it:
// without state or runtime version.
func listedConfiguration(f *functionRecord) functionConfiguration {
	cfg := f.configuration()
	cfg.State, cfg.StateReason, cfg.StateReasonCode = "", "", ""
	cfg.LastUpdateStatus, cfg.LastUpdateStatusReason, cfg.LastUpdateStatusReasonCode = "", "", ""
	cfg.RuntimeVersionConfig = nil
	return cfg
}

// listVersionsByFunction serves ListVersionsByFunction: $LATEST, then the
// published versions in order.
func (s *Server) listVersionsByFunction(w http.ResponseWriter, r *http.Request, c *call) error {
	ref, maxItems, err := listRequest(c, resolveFunction, 10000, 50)
	if err != nil {
		return err
	}
	var all []*functionRecord
	err = s.store.View(r.Context(), func(tx store.Tx) error {
		latest, err := loadRefFunction(tx, c.Scope, ref)
		if err != nil {
			return err
		}
		versions, err := listVersionRecords(tx, c.Scope, ref.Name)
		if err != nil {
			return err
		}
		latest.shownQualifier = "$LATEST"
		all = append(all, latest)
		for _, v := range versions {
			settleVersion(v, latest)
			v.shownQualifier = v.Version
			all = append(all, v)
		}
		return nil
	})
	if err != nil {
		return err
	}
	p, err := newPage[functionConfiguration](c, maxItems)
	if err != nil {
		return err
	}
	for _, f := range all {
		if !p.add(f.shownQualifier, listedConfiguration(f)) {
			break
		}
	}
	return reply(w, c, listVersionsOutput{Versions: p.items, NextMarker: p.next})
}

// publishAfterChange publishes the function's new $LATEST right after
// CreateFunction or UpdateFunctionCode with Publish: true.
func (s *Server) publishAfterChange(ctx context.Context, sc scope, name string) (*functionRecord, error) {
	var out *functionRecord
	err := s.store.Update(ctx, func(tx store.Tx) error {
		latest, err := loadFunction(tx, sc, name)
		if err != nil {
			return err
		}
		out, _, err = publishTx(tx, latest, nil)
		return err
	})
	return out, err
}

// deleteVersion serves DeleteFunction with a version qualifier.
func (s *Server) deleteVersion(ctx context.Context, sc scope, ref functionRef) error {
	// The version's idle instances stop with the engine's idle TTL; its
	// provisioned ones are released by the sync after the delete.
	defer s.syncProvisioned(sc, ref.Name)
	return s.store.Update(ctx, func(tx store.Tx) error {
		_, err := loadFunction(tx, sc, ref.Name)
		if errors.Is(err, store.ErrNotFound) {
			// AWS names the function, not the version, here.
			return errFunctionNotFound(functionArn(sc, ref.Name))
		}
		if err != nil {
			return err
		}
		v, err := loadVersion(tx, sc, ref.Name, ref.Qualifier)
		if errors.Is(err, store.ErrNotFound) {
			return nil // AWS answers 204 for a version that does not exist
		}
		if err != nil {
			return err
		}
		aliases, err := listAliasRecords(tx, sc, ref.Name)
		if err != nil {
			return err
		}
		var users []string
		for _, a := range aliases {
			if a.FunctionVersion == v.Version {
				users = append(users, a.Name)
				continue
			}
			if _, ok := a.Weights[v.Version]; ok {
				users = append(users, a.Name)
			}
		}
		if len(users) > 0 {
			return errConflict("Unable to delete version because the following aliases reference it: %v", users)
		}
		return forget(tx, delVersion, sc, ref.Name, v.Version)
	})
}
