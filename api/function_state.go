package api

import (
	"fmt"
	"strings"

	"github.com/lambhq/lamb/store"
)

// deleteKeys removes every key of bucket starting with prefix.
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

// qualifierKey is the key of per-qualifier state; qualifier "" is the
// unqualified function (AWS treats it as $LATEST for most state).
func qualifierKey(sc scope, name, qualifier string) string {
	return functionKey(sc, name) + "/" + strings.TrimSpace(qualifier)
}

// forget removes, from every bucket the schema says d clears, what d deletes:
// function name with all its versions, aliases and per-qualifier state
// (delFunction), or the version, alias or layer version id of name.
func forget(tx store.Tx, d deletion, sc scope, name, id string) error {
	for _, b := range schema {
		if b.onDelete[d] != cleared {
			continue
		}
		if d == delFunction {
			key := functionKey(sc, name)
			if err := tx.Delete(b.name, key); err != nil {
				return fmt.Errorf("%s: forget %s: %w", d, b.name, err)
			}
			if err := deleteKeys(tx, b.name, key+"/"); err != nil {
				return fmt.Errorf("%s: forget %s: %w", d, b.name, err)
			}
			continue
		}
		if err := tx.Delete(b.name, b.key(sc, name, id)); err != nil {
			return fmt.Errorf("%s: forget %s: %w", d, b.name, err)
		}
	}
	return nil
}
