package api

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"time"

	"github.com/lambhq/lamb/engine"
	"github.com/lambhq/lamb/store"
)

// Provisioned concurrency: a version or alias gets that many instances
// started ahead of calls and kept warm by the engine (engine.Provision).
// Put answers IN_PROGRESS at once; the instances start in the background and
// the config turns READY (or FAILED with the launch error) when they are up.
// The engine's instances do not survive a restart of lamb: configs read
// READY from an earlier process are provisioned again on the next Put.
const bucketProvisioned = "provisioned-concurrency" // key qualifierKey(sc, name, qualifier)

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

func (p *provisionedRecord) output(arn string) provisionedOutput {
	return provisionedOutput{
		AllocatedProvisionedConcurrentExecutions: p.Allocated, AvailableProvisionedConcurrentExecutions: p.Allocated,
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

// provisionedTotal sums the provisioned concurrency of sc's account and region.
func provisionedTotal(tx store.Tx, sc scope, skipKey string) (int64, error) {
	var total int64
	err := tx.Scan(bucketProvisioned, sc.Account+"/"+sc.Region+"/", "", func(key string, raw []byte) error {
		if key == skipKey {
			return nil
		}
		var p provisionedRecord
		if err := json.Unmarshal(raw, &p); err != nil {
			return err
		}
		total += int64(p.Requested)
		return nil
	})
	return total, err
}

// putProvisionedConcurrencyConfig serves PutProvisionedConcurrencyConfig (202).
func (s *Server) putProvisionedConcurrencyConfig(w http.ResponseWriter, r *http.Request, c *call) error {
	ref, err := resolveFunction(c)
	if err != nil {
		return err
	}
	var in struct {
		ProvisionedConcurrentExecutions *int32 `json:"ProvisionedConcurrentExecutions"`
	}
	if err := decodeBody(r, c, &in); err != nil {
		return err
	}
	var v validationError
	if in.ProvisionedConcurrentExecutions == nil {
		v.problems = append(v.problems, "Value null at 'provisionedConcurrentExecutions' failed to satisfy constraint: Member must not be null")
	} else if *in.ProvisionedConcurrentExecutions < 1 {
		v.add(itoa(*in.ProvisionedConcurrentExecutions), "provisionedConcurrentExecutions", "Member must have value greater than or equal to 1")
	}
	if err := v.err(); err != nil {
		return err
	}
	n := *in.ProvisionedConcurrentExecutions
	var (
		rec    *provisionedRecord
		target *functionRecord
	)
	key := qualifierKey(c.Scope, ref.Name, ref.Qualifier)
	err = s.store.Update(r.Context(), func(tx store.Tx) error {
		var alias *aliasRecord
		var err error
		target, alias, err = provisionedTarget(tx, c.Scope, ref, "Provisioned Concurrency Configs cannot be applied to unpublished function versions.")
		if err != nil {
			return err
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
		others, err := provisionedTotal(tx, c.Scope, key)
		if err != nil {
			return err
		}
		var reserved int64
		err = tx.Scan(bucketFunctions, c.Scope.Account+"/"+c.Scope.Region+"/", "", func(_ string, raw []byte) error {
			var f functionRecord
			if err := json.Unmarshal(raw, &f); err != nil {
				return err
			}
			if f.ReservedConcurrency != nil {
				reserved += int64(*f.ReservedConcurrency)
			}
			return nil
		})
		if err != nil {
			return err
		}
		unreserved := accountConcurrency - reserved - others
		var limitErr *awsError
		if int64(n) > unreserved {
			limitErr = errInvalidParameter("Specified ConcurrentExecutions for function is greater than account's unreserved concurrency [%d].", unreserved)
		} else if unreserved-int64(n) < minUnreservedConcurrency {
			limitErr = errInvalidParameter("Specified ConcurrentExecutions for function decreases account's UnreservedConcurrentExecution below its minimum value of [%d].", minUnreservedConcurrency)
		}
		if limitErr != nil {
			limitErr.NoType = true // as AWS answers these
			return limitErr
		}
		var old provisionedRecord
		_ = tx.Get(bucketProvisioned, key, &old)
		rec = &provisionedRecord{Qualifier: ref.Qualifier, Requested: n, Status: "IN_PROGRESS", LastModified: time.Now(), Generation: old.Generation + 1}
		return tx.Put(bucketProvisioned, key, rec)
	})
	if err != nil {
		return err
	}
	s.startProvision(c.Scope, ref.Name, key, target, rec)
	writeJSON(w, c.Op.successCode(), rec.output(""))
	return nil
}

// startProvision starts the instances in the background and records READY or FAILED.
func (s *Server) startProvision(sc scope, name, key string, target *functionRecord, rec *provisionedRecord) {
	prov, _ := s.cfg.Engine.(provisioner)
	efn, err := s.engineFunction(target.info())
	gen, n := rec.Generation, int(rec.Requested)
	s.goBackground(func(ctx context.Context) {
		switch {
		case err != nil:
		case prov == nil:
			err = errors.New("this lamb server runs no engine that can pre-start instances")
		default:
			err = prov.Provision(ctx, efn, n)
		}
		if ctx.Err() != nil {
			return
		}
		uerr := s.store.Update(ctx, func(tx store.Tx) error {
			var cur provisionedRecord
			if err := tx.Get(bucketProvisioned, key, &cur); err != nil {
				return err
			}
			if cur.Generation != gen {
				return nil // a later Put or a Delete superseded this one
			}
			if err != nil {
				cur.Status, cur.StatusReason = "FAILED", err.Error()
			} else {
				cur.Status, cur.Allocated = "READY", cur.Requested
			}
			cur.LastModified = time.Now()
			return tx.Put(bucketProvisioned, key, &cur)
		})
		if uerr != nil && !errors.Is(uerr, store.ErrNotFound) {
			s.log.Error("record provisioned concurrency", "function", efnARN(efn, name), "error", uerr)
		}
		if errors.Is(uerr, store.ErrNotFound) && prov != nil && err == nil {
			// Deleted while starting: release what was started.
			_ = prov.Unprovision(ctx, efn)
		}
	})
}

func efnARN(fn *engine.Function, name string) string {
	if fn == nil {
		return name
	}
	return fn.ARN + ":" + fn.Version
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
	writeJSON(w, c.Op.successCode(), rec.output(""))
	return nil
}

// deleteProvisionedConcurrencyConfig serves DeleteProvisionedConcurrencyConfig (204).
func (s *Server) deleteProvisionedConcurrencyConfig(w http.ResponseWriter, r *http.Request, c *call) error {
	ref, err := resolveFunction(c)
	if err != nil {
		return err
	}
	var target *functionRecord
	err = s.store.Update(r.Context(), func(tx store.Tx) error {
		var err error
		if target, _, err = provisionedTarget(tx, c.Scope, ref, "The function resource provided must be an alias or a published version."); err != nil {
			return err
		}
		return tx.Delete(bucketProvisioned, qualifierKey(c.Scope, ref.Name, ref.Qualifier))
	})
	if err != nil {
		return err
	}
	s.unprovision(r.Context(), target)
	w.WriteHeader(c.Op.successCode())
	return nil
}

// unprovision releases the engine's provisioned instances of a version.
func (s *Server) unprovision(ctx context.Context, target *functionRecord) {
	prov, ok := s.cfg.Engine.(provisioner)
	if !ok || target == nil {
		return
	}
	efn, err := s.engineFunction(target.info())
	if err == nil {
		err = prov.Unprovision(ctx, efn)
	}
	if err != nil {
		s.log.Warn("unprovision", "function", target.arn(), "error", err)
	}
}

// listProvisionedConcurrencyConfigs serves ListProvisionedConcurrencyConfigs.
func (s *Server) listProvisionedConcurrencyConfigs(w http.ResponseWriter, r *http.Request, c *call) error {
	ref, err := unqualifiedFunction(c)
	if err != nil {
		return err
	}
	out := struct {
		ProvisionedConcurrencyConfigs []provisionedOutput `json:"ProvisionedConcurrencyConfigs"`
	}{ProvisionedConcurrencyConfigs: []provisionedOutput{}}
	err = s.store.View(r.Context(), func(tx store.Tx) error {
		if _, err := loadFunction(tx, c.Scope, ref.Name); errors.Is(err, store.ErrNotFound) {
			return errFunctionNotFound(functionArn(c.Scope, ref.Name))
		} else if err != nil {
			return err
		}
		return tx.Scan(bucketProvisioned, functionKey(c.Scope, ref.Name)+"/", "", func(_ string, raw []byte) error {
			var p provisionedRecord
			if err := json.Unmarshal(raw, &p); err != nil {
				return err
			}
			out.ProvisionedConcurrencyConfigs = append(out.ProvisionedConcurrencyConfigs, p.output(functionArn(c.Scope, ref.Name)+":"+p.Qualifier))
			return nil
		})
	})
	if err != nil {
		return err
	}
	writeJSON(w, c.Op.successCode(), out)
	return nil
}
