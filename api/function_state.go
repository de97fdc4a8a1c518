package api

import (
	"strings"

	"github.com/lambhq/lamb/store"
)

// Buckets keyed per function ("<account>/<region>/<name>") or per qualifier
// ("<account>/<region>/<name>/<qualifier>", "" for the function itself),
// forgotten with the function (and per qualifier with a version or alias).
var (
	perFunctionBuckets  = []string{bucketVersionCounters}
	perQualifierBuckets = []string{bucketVersions, bucketAliases, bucketFunctionSettings}
	// qualifierStateBuckets hold state that belongs to one version or alias
	// (policies, event invoke configs, provisioned concurrency).
	qualifierStateBuckets = []string{bucketPolicies, bucketEventInvokeConfigs, bucketProvisioned}
)

// deleteKeys removes every key of bucket starting with prefix (and the key
// equal to exact, if given).
func deleteKeys(tx store.Tx, bucket, prefix string) error {
	var keys []string
	err := tx.Scan(bucket, prefix, "", func(key string, _ []byte) error {
		keys = append(keys, key)
		return nil
	})
	if err != nil {
		return err
	}
	for _, k := range keys {
		if err := tx.Delete(bucket, k); err != nil {
			return err
		}
	}
	return nil
}

// deleteFunctionState forgets everything kept about a function besides its
// $LATEST record: versions, aliases, counters and per-qualifier state.
func deleteFunctionState(tx store.Tx, sc scope, name string) error {
	key := functionKey(sc, name)
	for _, b := range perFunctionBuckets {
		if err := tx.Delete(b, key); err != nil {
			return err
		}
	}
	for _, b := range append(append([]string{}, perQualifierBuckets...), qualifierStateBuckets...) {
		if err := tx.Delete(b, key); err != nil {
			return err
		}
		if err := deleteKeys(tx, b, key+"/"); err != nil {
			return err
		}
	}
	return nil
}

// qualifierKey is the key of per-qualifier state; qualifier "" is the
// unqualified function (AWS treats it as $LATEST for most state).
func qualifierKey(sc scope, name, qualifier string) string {
	return functionKey(sc, name) + "/" + strings.TrimSpace(qualifier)
}

// deleteQualifierState forgets the state kept for one version or alias.
func deleteQualifierState(tx store.Tx, sc scope, name, qualifier string) error {
	for _, b := range qualifierStateBuckets {
		if err := tx.Delete(b, qualifierKey(sc, name, qualifier)); err != nil {
			return err
		}
	}
	return nil
}
