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

// putFunctionConcurrency serves PutFunctionConcurrency.
func (s *Server) putFunctionConcurrency(w http.ResponseWriter, r *http.Request, c *call) error {
	ref, err := unqualifiedFunction(c)
	if err != nil {
		return err
	}
	var in struct {
		ReservedConcurrentExecutions *int32 `json:"ReservedConcurrentExecutions"`
	}
	if err := decodeBody(r, c, &in); err != nil {
		return err
	}
	var v validationError
	if in.ReservedConcurrentExecutions == nil {
		v.problems = append(v.problems, "Value null at 'reservedConcurrentExecutions' failed to satisfy constraint: Member must not be null")
	}
	if err := v.err(); err != nil {
		return err
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
		// Reserved concurrency of the account's other functions counts too.
		var reserved int64
		err = tx.Scan(bucketFunctions, c.Scope.Account+"/"+c.Scope.Region+"/", "", func(key string, raw []byte) error {
			if key == functionKey(c.Scope, ref.Name) {
				return nil
			}
			var other functionRecord
			if err := jsonUnmarshal(raw, &other); err != nil {
				return err
			}
			if other.ReservedConcurrency != nil {
				reserved += int64(*other.ReservedConcurrency)
			}
			return nil
		})
		if err != nil {
			return err
		}
		if accountConcurrency-reserved-int64(want) < minUnreservedConcurrency {
			e := errInvalidParameter("Specified ReservedConcurrentExecutions for function decreases account's UnreservedConcurrentExecution below its minimum value of [%d].", minUnreservedConcurrency)
			e.NoType = true // as AWS answers it
			return e
		}
		f.ReservedConcurrency = &want
		return tx.Put(bucketFunctions, functionKey(c.Scope, f.Name), f)
	})
	if err != nil {
		return err
	}
	writeJSON(w, c.Op.successCode(), concurrency{ReservedConcurrentExecutions: want})
	return nil
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
		writeJSON(w, c.Op.successCode(), struct{}{})
		return nil
	}
	writeJSON(w, c.Op.successCode(), concurrency{ReservedConcurrentExecutions: *f.ReservedConcurrency})
	return nil
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
	w.WriteHeader(c.Op.successCode())
	return nil
}
