package api

import (
	"context"
	"encoding/json"
	"errors"
	"testing"

	"github.com/lambhq/lamb/store"
)

// TestLoadPolicy: no policy reads as an empty one; existingPolicy answers the
// operation's error for it and for a policy whose last statement was removed.
func TestLoadPolicy(t *testing.T) {
	st := store.NewMemory()
	ctx := context.Background()
	if err := st.Update(ctx, func(tx store.Tx) error {
		if err := tx.Put(bucketPolicies, "one", policyDoc{Statements: []json.RawMessage{json.RawMessage(`{"Sid":"a"}`)}, RevisionID: "r1"}); err != nil {
			return err
		}
		return tx.Put(bucketPolicies, "emptied", policyDoc{RevisionID: "r2"})
	}); err != nil {
		t.Fatal(err)
	}
	missing := errNotFound("No policy is associated with the given resource.")
	tests := []struct {
		key          string
		wantLoad     int // statements loadPolicy reads
		wantExisting error
	}{
		{"one", 1, nil},
		{"emptied", 0, missing},
		{"none", 0, missing},
	}
	for _, tc := range tests {
		err := st.View(ctx, func(tx store.Tx) error {
			p, err := loadPolicy(tx, bucketPolicies, tc.key)
			if err != nil || len(p.Statements) != tc.wantLoad {
				t.Errorf("loadPolicy(%s) = %v, %v; want %d statements", tc.key, p, err, tc.wantLoad)
			}
			p, err = existingPolicy(tx, bucketPolicies, tc.key, missing)
			if !errors.Is(err, tc.wantExisting) || (err == nil && p.RevisionID != "r1") {
				t.Errorf("existingPolicy(%s) = %v, %v; want %v", tc.key, p, err, tc.wantExisting)
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	}
}
