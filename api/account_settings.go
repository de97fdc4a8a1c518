package api

import (
	"fmt"
	"net/http"
	"strings"

	"github.com/lambhq/lamb/store"
)

// AWS's default account limits.
const (
	limitTotalCodeSize    = 80530636800 // 75 GB
	limitCodeSizeUnzipped = 262144000   // 250 MB
	limitCodeSizeZipped   = 52428800    // 50 MB
)

type accountLimit struct {
	CodeSizeUnzipped               int64 `json:"CodeSizeUnzipped"`
	CodeSizeZipped                 int64 `json:"CodeSizeZipped"`
	ConcurrentExecutions           int64 `json:"ConcurrentExecutions"`
	TotalCodeSize                  int64 `json:"TotalCodeSize"`
	UnreservedConcurrentExecutions int64 `json:"UnreservedConcurrentExecutions"`
}

type accountUsage struct {
	FunctionCount int64 `json:"FunctionCount"`
	TotalCodeSize int64 `json:"TotalCodeSize"`
}

// concurrencyUse is how an account's concurrency is spoken for in a region.
// As on AWS, provisioned concurrency is taken from the function's reserved
// concurrency when it has some, else from the account's unreserved pool.
type concurrencyUse struct {
	reserved       int64            // reserved concurrency of all functions
	unreservedProv int64            // provisioned concurrency of functions without reserved concurrency
	fnReserved     map[string]int64 // function name -> its reserved concurrency, if set
	fnProvisioned  map[string]int64 // function name -> its provisioned concurrency
}

func (u *concurrencyUse) unreserved() int64 {
	return accountConcurrency - u.reserved - u.unreservedProv
}

// readConcurrencyUse sums the reserved and provisioned concurrency of sc's
// account and region, leaving out the provisioned config stored at skipKey.
func readConcurrencyUse(tx store.Tx, sc scope, skipKey string) (*concurrencyUse, error) {
	u := &concurrencyUse{fnReserved: map[string]int64{}, fnProvisioned: map[string]int64{}}
	prefix := sc.Account + "/" + sc.Region + "/"
	err := store.Each(tx, bucketFunctions, prefix, "", func(_ string, f *functionRecord) error {
		if f.ReservedConcurrency != nil {
			u.reserved += int64(*f.ReservedConcurrency)
			u.fnReserved[f.Name] = int64(*f.ReservedConcurrency)
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("sum reserved concurrency: %w", err)
	}
	err = store.Each(tx, bucketProvisioned, prefix, "", func(key string, p *provisionedRecord) error {
		if key == skipKey {
			return nil
		}
		name, _, _ := strings.Cut(strings.TrimPrefix(key, prefix), "/")
		u.fnProvisioned[name] += int64(p.Requested)
		if _, ok := u.fnReserved[name]; !ok {
			u.unreservedProv += int64(p.Requested)
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("sum provisioned concurrency: %w", err)
	}
	return u, nil
}

// checkProvisionedLimits applies AWS's account limits to n provisioned
// instances for function name (its config at key replaced).
func checkProvisionedLimits(tx store.Tx, sc scope, name, key string, n int64) error {
	u, err := readConcurrencyUse(tx, sc, key)
	if err != nil {
		return err
	}
	if r, ok := u.fnReserved[name]; ok {
		if u.fnProvisioned[name]+n > r {
			return errInvalidParameter("Requested Provisioned Concurrency should not be greater than the reservedConcurrentExecution for function")
		}
		return nil
	}
	unreserved := u.unreserved()
	var limitErr *awsError
	if n > unreserved {
		limitErr = errInvalidParameter("Specified ConcurrentExecutions for function is greater than account's unreserved concurrency [%d].", unreserved)
	} else if unreserved-n < minUnreservedConcurrency {
		limitErr = errInvalidParameter("Specified ConcurrentExecutions for function decreases account's UnreservedConcurrentExecution below its minimum value of [%d].", minUnreservedConcurrency)
	}
	if limitErr != nil {
		limitErr.NoType = true // as AWS answers these
		return limitErr
	}
	return nil
}

// getAccountSettings serves GetAccountSettings: AWS's default limits, the
// concurrency left unreserved, and the usage of the caller's account and
// region (functions, and code stored for $LATEST, versions and layers).
func (s *Server) getAccountSettings(w http.ResponseWriter, r *http.Request, c *call) error {
	out := struct {
		AccountLimit accountLimit `json:"AccountLimit"`
		AccountUsage accountUsage `json:"AccountUsage"`
	}{AccountLimit: accountLimit{
		CodeSizeUnzipped: limitCodeSizeUnzipped, CodeSizeZipped: limitCodeSizeZipped,
		ConcurrentExecutions: accountConcurrency, TotalCodeSize: limitTotalCodeSize,
	}}
	prefix := c.Scope.Account + "/" + c.Scope.Region + "/"
	err := s.store.View(r.Context(), func(tx store.Tx) error {
		u, err := readConcurrencyUse(tx, c.Scope, "")
		if err != nil {
			return err
		}
		out.AccountLimit.UnreservedConcurrentExecutions = u.unreserved()
		err = store.Each(tx, bucketFunctions, prefix, "", func(_ string, f *functionRecord) error {
			out.AccountUsage.FunctionCount++
			out.AccountUsage.TotalCodeSize += f.CodeSize
			return nil
		})
		if err != nil {
			return err
		}
		err = store.Each(tx, bucketVersions, prefix, "", func(_ string, f *functionRecord) error {
			out.AccountUsage.TotalCodeSize += f.CodeSize
			return nil
		})
		if err != nil {
			return err
		}
		return store.Each(tx, bucketLayerVersions, prefix, "", func(key string, l *layerVersionRecord) error {
			if strings.Count(strings.TrimPrefix(key, prefix), "/") != 1 {
				return nil
			}
			out.AccountUsage.TotalCodeSize += l.CodeSize
			return nil
		})
	})
	if err != nil {
		return err
	}
	return reply(w, c, out)
}
