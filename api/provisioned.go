package api

import (
	"context"
	"errors"
	"net/http"
	"time"

	"github.com/lambhq/lamb/engine"
	"github.com/lambhq/lamb/store"
)

// Provisioned concurrency: a version or alias gets that many instances
// started ahead of calls and kept warm by the engine (engine.Provision).
// Put answers IN_PROGRESS at once; the instances start in the background and
// the config turns READY (or FAILED with the launch error) when they are up
// (provisioned_sync.go). The engine's instances do not survive a restart of
// lamb: RestoreProvisioned starts them again (IN_PROGRESS -> READY).
// An instance that dies is replaced by the engine; meanwhile Get and List
// show it missing from AvailableProvisionedConcurrentExecutions while
// Allocated stays (provisioned_sync.go, availableProvisioned).

// provisioner is what provisioned concurrency needs of the engine
// (*engine.Engine has it).
type provisioner interface {
	Provision(ctx context.Context, fn *engine.Function, n int) error
	Unprovision(ctx context.Context, fn *engine.Function) error
}

type provisionedRecord struct {
	Qualifier    string    `json:"qualifier"`
	Requested    int32     `json:"requested"`
	Allocated    int32     `json:"allocated"`
	Status       string    `json:"status"` // IN_PROGRESS, READY, FAILED
	StatusReason string    `json:"statusReason,omitempty"`
	LastModified time.Time `json:"lastModified"`
	Generation   int64     `json:"generation"` // a background result applies only to its own Put
}

type provisionedOutput struct {
	AllocatedProvisionedConcurrentExecutions int32  `json:"AllocatedProvisionedConcurrentExecutions"`
	AvailableProvisionedConcurrentExecutions int32  `json:"AvailableProvisionedConcurrentExecutions"`
	FunctionArn                              string `json:"FunctionArn,omitempty"`
	LastModified                             string `json:"LastModified"`
	RequestedProvisionedConcurrentExecutions int32  `json:"RequestedProvisionedConcurrentExecutions"`
	Status                                   string `json:"Status"`
	StatusReason                             string `json:"StatusReason,omitempty"`
}

// output renders the config. available is how many of its instances are
// ready (availableProvisioned), at most the allocated count; a negative
// available means unknown: the allocated count.
func (p *provisionedRecord) output(arn string, available int32) provisionedOutput {
	if available < 0 || available > p.Allocated {
		available = p.Allocated
	}
	return provisionedOutput{
		AllocatedProvisionedConcurrentExecutions: p.Allocated, AvailableProvisionedConcurrentExecutions: available,
		FunctionArn: arn, LastModified: p.LastModified.UTC().Format("2006-01-02T15:04:05+0000"),
		RequestedProvisionedConcurrentExecutions: p.Requested, Status: p.Status, StatusReason: p.StatusReason,
	}
}

func errNoProvisionedConfig() *awsError {
	return newError("ProvisionedConcurrencyConfigNotFoundException", "No Provisioned Concurrency Config found for this function")
}

// provisionedTarget resolves a provisioned concurrency operation's function
// and qualifier (a version or an alias) with AWS's errors.
func provisionedTarget(tx store.Tx, sc scope, ref functionRef, latestMsg string) (*functionRecord, *aliasRecord, error) {
	q := ref.Qualifier
	if q == "" || q == "$LATEST" {
		return nil, nil, errInvalidParameter("%s", latestMsg)
	}
	arn := functionArn(sc, ref.Name)
	latest, err := loadFunction(tx, sc, ref.Name)
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		return nil, nil, err
	}
	if isVersionNumber(q) {
		if latest == nil {
			return nil, nil, errFunctionNotFound(arn + ":" + q)
		}
		v, err := resolveQualifier(tx, latest, q, nil)
		return v, nil, err
	}
	if latest == nil {
		return nil, nil, errNotFound("Cannot find alias arn: %s:%s", arn, q)
	}
	a, err := loadAlias(tx, sc, ref.Name, q)
	if errors.Is(err, store.ErrNotFound) {
		return nil, nil, errNotFound("Cannot find alias arn: %s:%s", arn, q)
	}
	if err != nil {
		return nil, nil, err
	}
	v, err := resolveQualifier(tx, latest, q, nil)
	return v, a, err
}

// provisionedInput is the PutProvisionedConcurrencyConfig body.
type provisionedInput struct {
	ProvisionedConcurrentExecutions *int32 `json:"ProvisionedConcurrentExecutions"`
}

// putProvisionedConcurrencyConfig serves PutProvisionedConcurrencyConfig (202).
func (s *Server) putProvisionedConcurrencyConfig(w http.ResponseWriter, r *http.Request, c *call) error {
	ref, in, err := readRequest[provisionedInput](r, c, resolveFunction)
	if err != nil {
		return err
	}
	var v validationError
	if in.ProvisionedConcurrentExecutions == nil {
		v.null("provisionedConcurrentExecutions")
	} else if *in.ProvisionedConcurrentExecutions < 1 {
		v.add(itoa(*in.ProvisionedConcurrentExecutions), "provisionedConcurrentExecutions", "Member must have value greater than or equal to 1")
	}
	if err := v.err(); err != nil {
		return err
	}
	n := *in.ProvisionedConcurrentExecutions
	var rec *provisionedRecord
	key := qualifierKey(c.Scope, ref.Name, ref.Qualifier)
	err = s.store.Update(r.Context(), func(tx store.Tx) error {
		target, alias, err := provisionedTarget(tx, c.Scope, ref, msgUnpublished)
		if err != nil {
			return err
		}
		if target.version() == "$LATEST" {
			return errInvalidParameter("%s", msgUnpublished) // an alias of $LATEST
		}
		aliases, err := listAliasRecords(tx, c.Scope, ref.Name)
		if err != nil {
			return err
		}
		has := func(q string) bool {
			var p provisionedRecord
			return tx.Get(bucketProvisioned, qualifierKey(c.Scope, ref.Name, q), &p) == nil
		}
		if alias != nil && has(alias.FunctionVersion) {
			return errConflict("Alias can't be used for Provisioned Concurrency configuration on an already Provisioned version")
		}
		if alias == nil {
			for _, a := range aliases {
				if a.FunctionVersion == target.Version && has(a.Name) {
					return errConflict("Version is pointed by a Provisioned Concurrency alias")
				}
			}
		}
		if err := checkProvisionedLimits(tx, c.Scope, ref.Name, key, int64(n)); err != nil {
			return err
		}
		var old provisionedRecord
		_ = tx.Get(bucketProvisioned, key, &old)
		rec = &provisionedRecord{Qualifier: ref.Qualifier, Requested: n, Status: "IN_PROGRESS", LastModified: time.Now(), Generation: old.Generation + 1}
		return tx.Put(bucketProvisioned, key, rec)
	})
	if err != nil {
		return err
	}
	s.syncProvisioned(c.Scope, ref.Name)
	return reply(w, c, rec.output("", -1))
}

// getProvisionedConcurrencyConfig serves GetProvisionedConcurrencyConfig.
func (s *Server) getProvisionedConcurrencyConfig(w http.ResponseWriter, r *http.Request, c *call) error {
	ref, err := resolveFunction(c)
	if err != nil {
		return err
	}
	var rec provisionedRecord
	err = s.store.View(r.Context(), func(tx store.Tx) error {
		if _, _, err := provisionedTarget(tx, c.Scope, ref, "The function resource provided must be an alias or a published version."); err != nil {
			return err
		}
		if err := tx.Get(bucketProvisioned, qualifierKey(c.Scope, ref.Name, ref.Qualifier), &rec); errors.Is(err, store.ErrNotFound) {
			return errNoProvisionedConfig()
		} else if err != nil {
			return err
		}
		return nil
	})
	if err != nil {
		return err
	}
	available := int32(-1)
	if avail, ok, err := s.availableProvisioned(r.Context(), c.Scope, ref.Name); err != nil {
		return err
	} else if n, found := avail[ref.Qualifier]; ok && found {
		available = n
	}
	return reply(w, c, rec.output("", available))
}

// deleteProvisionedConcurrencyConfig serves DeleteProvisionedConcurrencyConfig (204).
func (s *Server) deleteProvisionedConcurrencyConfig(w http.ResponseWriter, r *http.Request, c *call) error {
	ref, err := resolveFunction(c)
	if err != nil {
		return err
	}
	err = s.store.Update(r.Context(), func(tx store.Tx) error {
		if _, _, err := provisionedTarget(tx, c.Scope, ref, "The function resource provided must be an alias or a published version."); err != nil {
			return err
		}
		return tx.Delete(bucketProvisioned, qualifierKey(c.Scope, ref.Name, ref.Qualifier))
	})
	if err != nil {
		return err
	}
	// The instances are gone when the client hears of the delete.
	select {
	case <-s.syncProvisioned(c.Scope, ref.Name):
	case <-r.Context().Done():
	case <-s.ctx.Done():
	}
	return replyEmpty(w, c)
}

// listProvisionedConcurrencyConfigs serves ListProvisionedConcurrencyConfigs.
func (s *Server) listProvisionedConcurrencyConfigs(w http.ResponseWriter, r *http.Request, c *call) error {
	// MaxItems is the model's MaxProvisionedConcurrencyConfigListItems (1..50).
	ref, maxItems, err := listRequest(c, unqualifiedFunction, 50, 50)
	if err != nil {
		return err
	}
	p, err := newPage[provisionedOutput](c, maxItems)
	if err != nil {
		return err
	}
	avail, counted, err := s.availableProvisioned(r.Context(), c.Scope, ref.Name)
	if err != nil {
		return err
	}
	err = s.store.View(r.Context(), func(tx store.Tx) error {
		if _, err := loadFunctionOr(tx, c.Scope, ref.Name, errFunctionNotFound(functionArn(c.Scope, ref.Name))); err != nil {
			return err
		}
		return scanPage(tx, p, bucketProvisioned, functionKey(c.Scope, ref.Name)+"/", func(rec *provisionedRecord) (string, provisionedOutput, bool) {
			available := int32(-1)
			if n, found := avail[rec.Qualifier]; counted && found {
				available = n
			}
			return rec.Qualifier, rec.output(functionArn(c.Scope, ref.Name)+":"+rec.Qualifier, available), true
		})
	})
	if err != nil {
		return err
	}
	return reply(w, c, struct {
		ProvisionedConcurrencyConfigs []provisionedOutput `json:"ProvisionedConcurrencyConfigs"`
		NextMarker                    string              `json:"NextMarker,omitempty"`
	}{p.items, p.next})
}
