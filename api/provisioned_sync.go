package api

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"math"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/lambhq/lamb/engine"
	"github.com/lambhq/lamb/store"
)

// The engine's provisioned instances follow the stored configs. Every change
// that can move them (a Put or Delete, an alias pointed elsewhere or deleted,
// a version deleted, a server start) asks for a sync of the function; one
// background run per function at a time re-reads the store, asks the engine
// for the instances each version needs, releases versions no config wants any
// more, and records READY or FAILED on the configs it acted for. Requests made
// while a run is busy are folded into one more run, so the engine always ends
// up with the latest stored state, however the calls interleave.

// provisionedSync is the Server's per-function sync state. The zero value is ready.
type provisionedSync struct {
	mu  sync.Mutex
	fns map[string]*provisionedFn // by functionKey
}

type provisionedFn struct {
	running, again bool            // under provisionedSync.mu
	waiters        []chan struct{} // under provisionedSync.mu: closed when the next run ends
	// live is what the engine was last asked to keep provisioned, by version;
	// only the running sync touches it.
	live map[string]*engine.Function
}

// errNoProvisioner is the StatusReason of configs on a server whose engine
// cannot pre-start instances (or that runs none).
var errNoProvisioner = errors.New("this lamb server runs no engine that can pre-start instances")

// msgUnpublished is AWS's answer for provisioned concurrency on $LATEST.
const msgUnpublished = "Provisioned Concurrency Configs cannot be applied to unpublished function versions."

// syncProvisioned brings the engine's provisioned instances of a function in
// line with the store, in the background (owned by the Server). The channel
// is closed when a run that read the store after this call has ended (or
// the server is closing).
func (s *Server) syncProvisioned(sc scope, name string) <-chan struct{} {
	key := functionKey(sc, name)
	done := make(chan struct{})
	ps := &s.provisioned
	ps.mu.Lock()
	if ps.fns == nil {
		ps.fns = map[string]*provisionedFn{}
	}
	st := ps.fns[key]
	if st == nil {
		st = &provisionedFn{live: map[string]*engine.Function{}}
		ps.fns[key] = st
	}
	st.waiters = append(st.waiters, done)
	if st.running {
		st.again = true
		ps.mu.Unlock()
		return done
	}
	st.running = true
	ps.mu.Unlock()
	s.goBackground(func(ctx context.Context) {
		for {
			ps.mu.Lock()
			waiters := st.waiters
			st.waiters, st.again = nil, false
			ps.mu.Unlock()
			changed := s.reconcileProvisioned(ctx, sc, name, st)
			for _, w := range waiters {
				close(w)
			}
			ps.mu.Lock()
			st.again = st.again || changed
			if !st.again || ctx.Err() != nil {
				for _, w := range st.waiters {
					close(w)
				}
				st.waiters, st.running = nil, false
				if len(st.live) == 0 {
					delete(ps.fns, key)
				}
				ps.mu.Unlock()
				return
			}
			ps.mu.Unlock()
		}
	})
	return done
}

// provisionedPlan is what the stored configs of one function ask of the engine.
type provisionedPlan struct {
	want    map[string]int              // version -> provisioned instances
	fns     map[string]*engine.Function // version -> its engine function
	configs map[string]plannedConfig    // qualifier -> what it was planned as
}

type plannedConfig struct {
	gen      int64
	versions []string       // the versions its instances run
	shares   map[string]int // version -> its part of the config's instances
	problem  string         // set when the config cannot be served at all
}

// splitByWeight divides an alias's provisioned concurrency between the
// versions it routes to, by their weights (the primary takes the rest).
func splitByWeight(a *aliasRecord, n int) map[string]int {
	out := map[string]int{}
	rest := n
	keys := make([]string, 0, len(a.Weights))
	for v := range a.Weights {
		keys = append(keys, v)
	}
	sort.Strings(keys)
	for _, v := range keys {
		share := int(math.Round(float64(n) * a.Weights[v]))
		share = min(share, rest)
		if share > 0 {
			out[v] += share
			rest -= share
		}
	}
	if rest > 0 {
		out[a.FunctionVersion] += rest
	}
	return out
}

// planProvisioned reads a function's provisioned concurrency configs. A
// function that does not exist plans nothing.
func (s *Server) planProvisioned(ctx context.Context, sc scope, name string) (*provisionedPlan, error) {
	plan := &provisionedPlan{want: map[string]int{}, fns: map[string]*engine.Function{}, configs: map[string]plannedConfig{}}
	err := s.store.View(ctx, func(tx store.Tx) error {
		if _, err := loadFunction(tx, sc, name); errors.Is(err, store.ErrNotFound) {
			return nil
		} else if err != nil {
			return err
		}
		aliases, err := listAliasRecords(tx, sc, name)
		if err != nil {
			return err
		}
		byName := map[string]*aliasRecord{}
		for _, a := range aliases {
			byName[a.Name] = a
		}
		return store.Each(tx, bucketProvisioned, functionKey(sc, name)+"/", "", func(_ string, p *provisionedRecord) error {
			c := plannedConfig{gen: p.Generation, shares: map[string]int{}}
			var shares map[string]int
			if isVersionNumber(p.Qualifier) {
				shares = map[string]int{p.Qualifier: int(p.Requested)}
			} else if a := byName[p.Qualifier]; a != nil {
				shares = splitByWeight(a, int(p.Requested))
			}
			versions := make([]string, 0, len(shares))
			for v := range shares {
				versions = append(versions, v)
			}
			sort.Strings(versions)
			for _, v := range versions {
				if v == "$LATEST" {
					c.problem = msgUnpublished
					continue
				}
				if _, ok := plan.fns[v]; !ok {
					rec, err := loadVersion(tx, sc, name, v)
					if errors.Is(err, store.ErrNotFound) {
						c.problem = "Function version " + v + " does not exist"
						continue
					} else if err != nil {
						return err
					}
					efn, err := s.engineFunction(rec.info())
					if err != nil {
						c.problem = err.Error()
						continue
					}
					plan.fns[v] = efn
				}
				plan.want[v] += shares[v]
				c.shares[v] = shares[v]
				c.versions = append(c.versions, v)
			}
			plan.configs[p.Qualifier] = c
			return nil
		})
	})
	if err != nil {
		return nil, fmt.Errorf("plan provisioned concurrency of %s: %w", name, err)
	}
	return plan, nil
}

// reconcileProvisioned is one sync run for a function. It reports whether
// the store changed in a way that asks for another run while the engine
// worked: a change that asked for a sync is caught by the caller anyway, but
// deleting the whole function asks for none, and instances provisioned just
// after its delete evicted them must not outlive it.
func (s *Server) reconcileProvisioned(ctx context.Context, sc scope, name string, st *provisionedFn) (changed bool) {
	plan, err := s.planProvisioned(ctx, sc, name)
	if err != nil {
		if ctx.Err() == nil {
			s.log.Error("provisioned concurrency", "function", functionArn(sc, name), "error", err)
		}
		return false
	}
	prov, _ := s.cfg.Engine.(provisioner)
	results := map[string]error{}
	var (
		mu sync.Mutex
		wg sync.WaitGroup
	)
	for v, n := range plan.want {
		if prov == nil {
			results[v] = errNoProvisioner
			continue
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			err := prov.Provision(ctx, plan.fns[v], n)
			mu.Lock()
			results[v] = err
			mu.Unlock()
		}()
	}
	for v, fn := range st.live {
		if _, kept := plan.want[v]; kept || prov == nil {
			continue
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := prov.Unprovision(ctx, fn); err != nil && ctx.Err() == nil {
				s.log.Warn("release provisioned instances", "function", fn.ARN+":"+v, "error", err)
			}
		}()
	}
	wg.Wait()
	st.live = map[string]*engine.Function{}
	for v := range plan.want {
		st.live[v] = plan.fns[v]
	}
	if ctx.Err() != nil {
		return false // the server is closing: nothing was decided
	}
	if err := s.recordProvisioned(ctx, sc, name, plan, results); err != nil {
		s.log.Error("record provisioned concurrency", "function", functionArn(sc, name), "error", err)
	}
	after, err := s.planProvisioned(ctx, sc, name)
	return err == nil && !maps.Equal(after.want, plan.want)
}

// recordProvisioned writes the outcome of a sync run on the configs that
// have not changed since it read them.
func (s *Server) recordProvisioned(ctx context.Context, sc scope, name string, plan *provisionedPlan, results map[string]error) error {
	return s.store.Update(ctx, func(tx store.Tx) error {
		for q, c := range plan.configs {
			key := qualifierKey(sc, name, q)
			var cur provisionedRecord
			if err := tx.Get(bucketProvisioned, key, &cur); errors.Is(err, store.ErrNotFound) {
				continue
			} else if err != nil {
				return err
			}
			if cur.Generation != c.gen {
				continue // changed meanwhile: the next run answers for it
			}
			status, reason := "READY", c.problem
			if reason == "" {
				var errs []error
				for _, v := range c.versions {
					errs = append(errs, results[v])
				}
				if err := errors.Join(errs...); err != nil {
					reason = err.Error()
				}
			}
			allocated := cur.Requested
			if reason != "" {
				status, allocated = "FAILED", 0
			}
			if cur.Status == status && cur.StatusReason == reason && cur.Allocated == allocated {
				continue
			}
			cur.Status, cur.StatusReason, cur.Allocated, cur.LastModified = status, reason, allocated, time.Now()
			if err := tx.Put(bucketProvisioned, key, &cur); err != nil {
				return err
			}
		}
		return nil
	})
}

// reallocateProvisioned marks a config IN_PROGRESS again (its instances are
// being started anew), as AWS shows while it allocates. It reports whether
// the qualifier has a config; the caller then syncs the function.
func reallocateProvisioned(tx store.Tx, sc scope, name, qualifier string) (bool, error) {
	key := qualifierKey(sc, name, qualifier)
	var p provisionedRecord
	if err := tx.Get(bucketProvisioned, key, &p); errors.Is(err, store.ErrNotFound) {
		return false, nil
	} else if err != nil {
		return false, err
	}
	p.Status, p.StatusReason, p.Allocated = "IN_PROGRESS", "", 0
	p.Generation++
	p.LastModified = time.Now()
	return true, tx.Put(bucketProvisioned, key, &p)
}

// RestoreProvisioned starts again the provisioned instances of every
// provisioned concurrency config in the store, for a server that starts on
// an earlier server's data (the engine's instances do not outlive it). It
// marks each config IN_PROGRESS and returns; the instances start in the
// background, owned by the Server (Close cancels them), and each config turns
// READY or FAILED as they come up. Call it once, after New, before or while
// serving. Errors are the store's.
func (s *Server) RestoreProvisioned(ctx context.Context) error {
	type fnRef struct {
		sc   scope
		name string
	}
	var fns []fnRef
	err := s.store.Update(ctx, func(tx store.Tx) error {
		fns = nil
		seen := map[fnRef]bool{}
		var keys []string
		err := tx.Scan(bucketProvisioned, "", "", func(key string, _ []byte) error {
			keys = append(keys, key)
			return nil
		})
		if err != nil {
			return err
		}
		for _, key := range keys {
			parts := strings.SplitN(key, "/", 4) // account/region/name/qualifier
			if len(parts) != 4 {
				continue
			}
			f := fnRef{scope{Account: parts[0], Region: parts[1]}, parts[2]}
			if _, err := reallocateProvisioned(tx, f.sc, f.name, parts[3]); err != nil {
				return err
			}
			if !seen[f] {
				seen[f] = true
				fns = append(fns, f)
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("api: restore provisioned concurrency: %w", err)
	}
	for _, f := range fns {
		s.syncProvisioned(f.sc, f.name)
	}
	if len(fns) > 0 {
		s.log.Info("provisioning again", "functions", len(fns))
	}
	return nil
}

// aliasMoved reports whether an update changed the versions an alias routes
// to or their weights.
func aliasMoved(before, after *aliasRecord) bool {
	if before.FunctionVersion != after.FunctionVersion || len(before.Weights) != len(after.Weights) {
		return true
	}
	for v, w := range before.Weights {
		if aw, ok := after.Weights[v]; !ok || aw != w {
			return true
		}
	}
	return false
}

// provisionedCounter is implemented by engines that tell how many
// provisioned instances of a configuration are ready (*engine.Engine does).
type provisionedCounter interface {
	Provisioned(fn *engine.Function) int
}

// availableProvisioned tells, per qualifier, how many of a function's
// provisioned instances are ready to serve right now. The engine replaces
// instances that die; until a replacement is up the config shows less
// available than allocated, as AWS's AvailableProvisionedConcurrentExecutions
// does. Versions that several configs share (aliases on one version) give
// their ready instances to the configs in qualifier order. ok is false when
// the engine cannot tell; callers then show the allocated count.
func (s *Server) availableProvisioned(ctx context.Context, sc scope, name string) (avail map[string]int32, ok bool, err error) {
	counter, ok := s.cfg.Engine.(provisionedCounter)
	if !ok {
		return nil, false, nil
	}
	plan, err := s.planProvisioned(ctx, sc, name)
	if err != nil {
		return nil, false, err
	}
	ready := map[string]int{}
	for v, fn := range plan.fns {
		ready[v] = counter.Provisioned(fn)
	}
	quals := make([]string, 0, len(plan.configs))
	for q := range plan.configs {
		quals = append(quals, q)
	}
	sort.Strings(quals)
	avail = map[string]int32{}
	for _, q := range quals {
		c := plan.configs[q]
		n := 0
		for _, v := range c.versions {
			take := min(c.shares[v], ready[v])
			ready[v] -= take
			n += take
		}
		avail[q] = int32(n)
	}
	return avail, true, nil
}
