package api

import (
	"context"
	"errors"
	"testing"

	"github.com/lambhq/lamb/store"
)

// TestLoadFunctionOr: a missing function answers the operation's own error;
// loadRefFunction's is AWS's usual one, naming the ref as the request did.
func TestLoadFunctionOr(t *testing.T) {
	st := store.NewMemory()
	sc := scope{Account: testAccount, Region: "us-east-1"}
	ctx := context.Background()
	if err := st.Update(ctx, func(tx store.Tx) error {
		return tx.Put(bucketFunctions, functionKey(sc, "here"), &functionRecord{Name: "here"})
	}); err != nil {
		t.Fatal(err)
	}
	own := errInvalidParameter("Function does not exist")
	tests := []struct {
		name    string
		load    func(tx store.Tx) (*functionRecord, error)
		wantMsg string // "" when found
	}{
		{"found", func(tx store.Tx) (*functionRecord, error) { return loadFunctionOr(tx, sc, "here", own) }, ""},
		{"operation's error", func(tx store.Tx) (*functionRecord, error) { return loadFunctionOr(tx, sc, "gone", own) }, "Function does not exist"},
		{"ref found", func(tx store.Tx) (*functionRecord, error) {
			return loadRefFunction(tx, sc, functionRef{Name: "here", Qualifier: "live"})
		}, ""},
		{"ref with qualifier", func(tx store.Tx) (*functionRecord, error) {
			return loadRefFunction(tx, sc, functionRef{Name: "gone", Qualifier: "live"})
		}, "Function not found: arn:aws:lambda:us-east-1:111111111111:function:gone:live"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var f *functionRecord
			err := st.View(ctx, func(tx store.Tx) (err error) {
				f, err = tc.load(tx)
				return err
			})
			if tc.wantMsg == "" {
				if err != nil || f == nil || f.Name != "here" {
					t.Fatalf("= %v, %v; want the record", f, err)
				}
				return
			}
			var ae *awsError
			if !errors.As(err, &ae) || ae.Message != tc.wantMsg || f != nil {
				t.Fatalf("= %v, %v; want %q", f, err, tc.wantMsg)
			}
		})
	}
}
