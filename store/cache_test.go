package store

import (
	"context"
	"errors"
	"testing"
)

type cachedDoc struct {
	Name string            `json:"name"`
	Env  map[string]string `json:"env"`
}

// TestCacheFollowsWrites: every write is seen by the next Load, on both
// stores, and a deleted document is not found.
func TestCacheFollowsWrites(t *testing.T) {
	ctx := context.Background()
	bolt, err := Open(ctx, t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { bolt.Close() })
	for _, tc := range []struct {
		name string
		st   Store
	}{{"memory", NewMemory()}, {"bolt", bolt}} {
		t.Run(tc.name, func(t *testing.T) {
			var c Cache[cachedDoc]
			put := func(d cachedDoc) {
				t.Helper()
				if err := tc.st.Update(ctx, func(tx Tx) error { return tx.Put("b", "k", d) }); err != nil {
					t.Fatal(err)
				}
			}
			load := func() (*cachedDoc, error) {
				var d *cachedDoc
				err := tc.st.View(ctx, func(tx Tx) (err error) {
					d, err = c.Load(tx, "b", "k")
					return err
				})
				return d, err
			}
			if _, err := load(); !errors.Is(err, ErrNotFound) {
				t.Fatalf("absent: err = %v, want ErrNotFound", err)
			}
			for i, name := range []string{"one", "one", "two", "three"} {
				put(cachedDoc{Name: name, Env: map[string]string{"I": name}})
				d, err := load()
				if err != nil {
					t.Fatal(err)
				}
				if d.Name != name || d.Env["I"] != name {
					t.Fatalf("write %d: loaded %+v, want %s", i, d, name)
				}
				d.Name = "changed by the caller" // its own copy
				if d2, _ := load(); d2.Name != name {
					t.Fatalf("write %d: a caller's change reached the cache: %+v", i, d2)
				}
			}
			if err := tc.st.Update(ctx, func(tx Tx) error { return tx.Delete("b", "k") }); err != nil {
				t.Fatal(err)
			}
			if _, err := load(); !errors.Is(err, ErrNotFound) {
				t.Fatalf("deleted: err = %v, want ErrNotFound", err)
			}
		})
	}
}

// TestCacheSeesUncommittedWrites: inside an Update, Load reads the
// transaction's own writes.
func TestCacheSeesUncommittedWrites(t *testing.T) {
	st := NewMemory()
	var c Cache[cachedDoc]
	err := st.Update(context.Background(), func(tx Tx) error {
		if err := tx.Put("b", "k", cachedDoc{Name: "a"}); err != nil {
			return err
		}
		if d, err := c.Load(tx, "b", "k"); err != nil || d.Name != "a" {
			t.Errorf("Load = %+v, %v", d, err)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}
