package api

import (
	"net/http"

	"github.com/lambhq/lamb/store"
)

// Account concurrency as AWS sets it by default: 1000, of which 100 must stay
// unreserved.
const (
	accountConcurrency       = 1000
	minUnreservedConcurrency = 100
)

// unqualifiedFunction resolves {FunctionName} for operations AWS permits on
// functions only, not on versions or aliases.
func unqualifiedFunction(c *call) (functionRef, error) {
	ref, err := resolveFunction(c)
	if err != nil {
		return functionRef{}, err
	}
	if ref.Qualifier != "" {
		return functionRef{}, errInvalidParameter("This operation is permitted on Lambda functions only. Aliases and versions do not support this operation. Please specify either a function name or an unqualified function ARN.")
	}
	return ref, nil
}

// errReservedBelowProvisioned refuses a reservation smaller than the
// function's provisioned concurrency (all versions and aliases together), in
// AWS's words, odd spaces and no Type included (LocalStack's recording
// test_lambda.snapshot.json, test_reserved_provisioned_overlap,
// reserved_lower_than_provisioned_exc).
func errReservedBelowProvisioned(requested int32, provisioned int64) *awsError {
	e := errInvalidParameter(" ReservedConcurrentExecutions  %d should not be lower than function's total provisioned concurrency [%d].", requested, provisioned)
	e.NoType = true
	return e
}

// concurrencyInput is the PutFunctionConcurrency body.
type concurrencyInput struct {
	ReservedConcurrentExecutions *int32 `json:"ReservedConcurrentExecutions"`
}

// putFunctionConcurrency serves PutFunctionConcurrency.
func (s *Server) putFunctionConcurrency(w http.ResponseWriter, r *http.Request, c *call) error {
	ref, in, err := readRequest[concurrencyInput](r, c, unqualifiedFunction)
	if err != nil {
		return err
	}
	if in.ReservedConcurrentExecutions == nil {
		return errNull("reservedConcurrentExecutions")
	}
	want := *in.ReservedConcurrentExecutions
	err = s.store.Update(r.Context(), func(tx store.Tx) error {
		f, err := loadFunction(tx, c.Scope, ref.Name)
		if err != nil {
			// AWS names $LATEST here.
			ref.Qualifier = "$LATEST"
			return errFunctionNotFound(ref.notFoundArn(c.Scope))
		}
		if want < 0 {
			var v validationError
			v.add(itoa(want), "reservedConcurrentExecutions", "Member must have value greater than or equal to 0")
			return v.err()
		}
		// What the account's other functions hold counts too: their
		// reserved concurrency, and the provisioned concurrency of those
		// without a reservation (taken from the unreserved pool). This
		// function's own provisioned concurrency moves into its reservation.
		u, err := readConcurrencyUse(tx, c.Scope, "")
		if err != nil {
			return err
		}
		others := u.reserved + u.unreservedProv
		if r, ok := u.fnReserved[ref.Name]; ok {
			others -= r
		} else {
			others -= u.fnProvisioned[ref.Name]
		}
		if accountConcurrency-others-int64(want) < minUnreservedConcurrency {
			e := errInvalidParameter("Specified ReservedConcurrentExecutions for function decreases account's UnreservedConcurrentExecution below its minimum value of [%d].", minUnreservedConcurrency)
			e.NoType = true // as AWS answers it
			return e
		}
		// The reservation must hold the provisioned concurrency of every
		// version and alias of the function.
		if prov := u.fnProvisioned[ref.Name]; int64(want) < prov {
			return errReservedBelowProvisioned(want, prov)
		}
		f.ReservedConcurrency = &want
		return tx.Put(bucketFunctions, functionKey(c.Scope, f.Name), f)
	})
	if err != nil {
		return err
	}
	return reply(w, c, concurrency{ReservedConcurrentExecutions: want})
}

// getFunctionConcurrency serves GetFunctionConcurrency: {} when none is set.
func (s *Server) getFunctionConcurrency(w http.ResponseWriter, r *http.Request, c *call) error {
	ref, err := unqualifiedFunction(c)
	if err != nil {
		return err
	}
	f, err := s.loadFunctionRef(r.Context(), c, ref)
	if err != nil {
		return err
	}
	if f.ReservedConcurrency == nil {
		return reply(w, c, struct{}{})
	}
	return reply(w, c, concurrency{ReservedConcurrentExecutions: *f.ReservedConcurrency})
}

// deleteFunctionConcurrency serves DeleteFunctionConcurrency (204).
func (s *Server) deleteFunctionConcurrency(w http.ResponseWriter, r *http.Request, c *call) error {
	ref, err := unqualifiedFunction(c)
	if err != nil {
		return err
	}
	err = s.store.Update(r.Context(), func(tx store.Tx) error {
		f, err := loadFunction(tx, c.Scope, ref.Name)
		if err != nil {
			return errFunctionNotFound(ref.notFoundArn(c.Scope))
		}
		f.ReservedConcurrency = nil
		return tx.Put(bucketFunctions, functionKey(c.Scope, f.Name), f)
	})
	if err != nil {
		return err
	}
	return replyEmpty(w, c)
}
