package api

import (
	"encoding/json"
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
	var reserved int64
	err := s.store.View(r.Context(), func(tx store.Tx) error {
		err := tx.Scan(bucketFunctions, prefix, "", func(_ string, raw []byte) error {
			var f functionRecord
			if err := json.Unmarshal(raw, &f); err != nil {
				return err
			}
			out.AccountUsage.FunctionCount++
			out.AccountUsage.TotalCodeSize += f.CodeSize
			if f.ReservedConcurrency != nil {
				reserved += int64(*f.ReservedConcurrency)
			}
			return nil
		})
		if err != nil {
			return err
		}
		err = tx.Scan(bucketVersions, prefix, "", func(_ string, raw []byte) error {
			var f functionRecord
			if err := json.Unmarshal(raw, &f); err != nil {
				return err
			}
			out.AccountUsage.TotalCodeSize += f.CodeSize
			return nil
		})
		if err != nil {
			return err
		}
		return tx.Scan(bucketLayerVersions, prefix, "", func(key string, raw []byte) error {
			if strings.Count(strings.TrimPrefix(key, prefix), "/") != 1 {
				return nil
			}
			var l layerVersionRecord
			if err := json.Unmarshal(raw, &l); err != nil {
				return err
			}
			out.AccountUsage.TotalCodeSize += l.CodeSize
			return nil
		})
	})
	if err != nil {
		return err
	}
	out.AccountLimit.UnreservedConcurrentExecutions = accountConcurrency - reserved
	writeJSON(w, c.Op.successCode(), out)
	return nil
}
