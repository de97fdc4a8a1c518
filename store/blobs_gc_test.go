package store_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"sort"
	"testing"

	"github.com/lambhq/lamb/store"
)

func blobKeys(t *testing.T, s store.Store) []string {
	t.Helper()
	var keys []string
	if err := s.Blobs(context.Background(), func(h string, _ int64) error {
		keys = append(keys, h)
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	sort.Strings(keys)
	return keys
}

func TestDeleteBlob(t *testing.T) {
	ctx := context.Background()
	for name, s := range stores(t) {
		t.Run(name, func(t *testing.T) {
			a, err := s.PutBlob(ctx, []byte("alpha"))
			if err != nil {
				t.Fatal(err)
			}
			b, err := s.PutBlob(ctx, []byte("beta!"))
			if err != nil {
				t.Fatal(err)
			}
			want := []string{a, b}
			sort.Strings(want)
			if got := blobKeys(t, s); len(got) != 2 || got[0] != want[0] || got[1] != want[1] {
				t.Fatalf("Blobs = %v, want %v", got, want)
			}
			sizes := map[string]int64{}
			_ = s.Blobs(ctx, func(h string, n int64) error { sizes[h] = n; return nil })
			if sizes[a] != 5 || sizes[b] != 5 {
				t.Fatalf("sizes = %v, want 5 each", sizes)
			}
			if err := s.DeleteBlob(ctx, a); err != nil {
				t.Fatal(err)
			}
			if _, _, err := s.OpenBlob(ctx, a); !errors.Is(err, store.ErrNotFound) {
				t.Fatalf("open deleted blob: %v, want ErrNotFound", err)
			}
			if got := blobKeys(t, s); len(got) != 1 || got[0] != b {
				t.Fatalf("Blobs after delete = %v, want [%s]", got, b)
			}
			// Absent and malformed keys are not errors.
			if err := s.DeleteBlob(ctx, a); err != nil {
				t.Fatalf("delete absent: %v", err)
			}
			if err := s.DeleteBlob(ctx, "../x"); err != nil {
				t.Fatalf("delete malformed: %v", err)
			}
			// The same bytes can be stored again.
			if h, err := s.PutBlob(ctx, []byte("alpha")); err != nil || h != a {
				t.Fatalf("put again = %s, %v", h, err)
			}
			if _, _, err := s.OpenBlob(ctx, a); err != nil {
				t.Fatal(err)
			}
			// Deleting from inside Blobs' callback works.
			if err := s.Blobs(ctx, func(h string, _ int64) error { return s.DeleteBlob(ctx, h) }); err != nil {
				t.Fatal(err)
			}
			if got := blobKeys(t, s); len(got) != 0 {
				t.Fatalf("Blobs after deleting all = %v", got)
			}
		})
	}
}

// TestBoltBlobDirRestored: deleting every blob leaves the blob directory as
// it was, and Open clears what a crashed PutBlob left behind.
func TestBoltBlobDirRestored(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	s, err := store.Open(ctx, dir)
	if err != nil {
		t.Fatal(err)
	}
	for i := range 50 {
		if _, err := s.PutBlob(ctx, []byte{byte(i), 1, 2, 3}); err != nil {
			t.Fatal(err)
		}
	}
	for _, h := range blobKeys(t, s) {
		if err := s.DeleteBlob(ctx, h); err != nil {
			t.Fatal(err)
		}
	}
	left, err := os.ReadDir(filepath.Join(dir, "blobs"))
	if err != nil {
		t.Fatal(err)
	}
	if len(left) != 0 {
		t.Fatalf("blob dir holds %d entries after deleting every blob", len(left))
	}
	// A temporary file of a write cut short by a crash.
	h, err := s.PutBlob(ctx, []byte("kept"))
	if err != nil {
		t.Fatal(err)
	}
	tmp := filepath.Join(dir, "blobs", h[:2], ".tmp-123")
	if err := os.WriteFile(tmp, []byte("half"), 0o600); err != nil {
		t.Fatal(err)
	}
	if got := blobKeys(t, s); len(got) != 1 {
		t.Fatalf("Blobs lists a temporary file: %v", got)
	}
	s.Close()
	s, err = store.Open(ctx, dir)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if _, err := os.Stat(tmp); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("temporary file survives Open: %v", err)
	}
	if _, _, err := s.OpenBlob(ctx, h); err != nil {
		t.Fatal(err)
	}
}
