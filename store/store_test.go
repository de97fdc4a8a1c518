package store_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"sync"
	"syscall"
	"testing"

	"github.com/lambhq/lamb/store"
)

type doc struct {
	Name string
	N    int
}

func stores(t *testing.T) map[string]store.Store {
	t.Helper()
	b, err := store.Open(context.Background(), t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { b.Close() })
	return map[string]store.Store{"memory": store.NewMemory(), "bolt": b}
}

func TestDocuments(t *testing.T) {
	ctx := context.Background()
	for name, s := range stores(t) {
		t.Run(name, func(t *testing.T) {
			err := s.View(ctx, func(tx store.Tx) error {
				var d doc
				return tx.Get("fn", "a", &d)
			})
			if !errors.Is(err, store.ErrNotFound) {
				t.Fatalf("get absent: %v, want ErrNotFound", err)
			}
			if err := s.Update(ctx, func(tx store.Tx) error {
				for _, k := range []string{"acct/r/b", "acct/r/a", "acct/s/c", "other/r/z"} {
					if err := tx.Put("fn", k, doc{Name: k}); err != nil {
						return err
					}
				}
				return nil
			}); err != nil {
				t.Fatal(err)
			}
			// A failed transaction leaves nothing behind.
			boom := errors.New("boom")
			if err := s.Update(ctx, func(tx store.Tx) error {
				if err := tx.Put("fn", "acct/r/0", doc{}); err != nil {
					return err
				}
				if err := tx.Delete("fn", "acct/r/a"); err != nil {
					return err
				}
				return boom
			}); !errors.Is(err, boom) {
				t.Fatalf("update error = %v, want boom", err)
			}
			tests := []struct {
				prefix, start string
				want          []string
			}{
				{"acct/r/", "", []string{"acct/r/a", "acct/r/b"}},
				{"acct/r/", "acct/r/b", []string{"acct/r/b"}},
				{"acct/", "", []string{"acct/r/a", "acct/r/b", "acct/s/c"}},
				{"", "acct/s", []string{"acct/s/c", "other/r/z"}},
				{"none/", "", nil},
			}
			for _, tc := range tests {
				var got []string
				err := s.View(ctx, func(tx store.Tx) error {
					return tx.Scan("fn", tc.prefix, tc.start, func(k string, raw []byte) error {
						got = append(got, k)
						return nil
					})
				})
				if err != nil || fmt.Sprint(got) != fmt.Sprint(tc.want) {
					t.Errorf("scan(%q,%q) = %v, %v; want %v", tc.prefix, tc.start, got, err, tc.want)
				}
			}
			// Reads inside an update see its own writes; ErrStop ends a scan quietly.
			if err := s.Update(ctx, func(tx store.Tx) error {
				if err := tx.Delete("fn", "acct/r/a"); err != nil {
					return err
				}
				var seen []string
				if err := tx.Scan("fn", "acct/", "", func(k string, _ []byte) error {
					seen = append(seen, k)
					return store.ErrStop
				}); err != nil {
					return err
				}
				if fmt.Sprint(seen) != "[acct/r/b]" {
					return fmt.Errorf("scan in tx saw %v", seen)
				}
				return nil
			}); err != nil {
				t.Fatal(err)
			}
			if err := s.View(ctx, func(tx store.Tx) error { return tx.Put("fn", "x", doc{}) }); err == nil {
				t.Error("put in a view succeeded")
			}
		})
	}
}

func TestBlobs(t *testing.T) {
	ctx := context.Background()
	for name, s := range stores(t) {
		t.Run(name, func(t *testing.T) {
			data := []byte("PK\x03\x04 some zip")
			h1, err := s.PutBlob(ctx, data)
			if err != nil {
				t.Fatal(err)
			}
			h2, err := s.PutBlob(ctx, data)
			if err != nil || h1 != h2 || len(h1) != 64 {
				t.Fatalf("put twice: %q %q %v", h1, h2, err)
			}
			rc, size, err := s.OpenBlob(ctx, h1)
			if err != nil {
				t.Fatal(err)
			}
			got, _ := io.ReadAll(rc)
			rc.Close()
			if !bytes.Equal(got, data) || size != int64(len(data)) {
				t.Fatalf("blob = %q (%d)", got, size)
			}
			for _, bad := range []string{"00", "../../etc/passwd", h1[:63] + "0"} {
				if _, _, err := s.OpenBlob(ctx, bad); !errors.Is(err, store.ErrNotFound) {
					t.Errorf("open %q: %v, want ErrNotFound", bad, err)
				}
			}
		})
	}
}

// Concurrent read-modify-write transactions must not lose updates.
func TestConcurrentUpdates(t *testing.T) {
	ctx := context.Background()
	for name, s := range stores(t) {
		t.Run(name, func(t *testing.T) {
			var wg sync.WaitGroup
			for range 8 {
				wg.Go(func() {
					for range 25 {
						err := s.Update(ctx, func(tx store.Tx) error {
							var d doc
							if err := tx.Get("c", "k", &d); err != nil && !errors.Is(err, store.ErrNotFound) {
								return err
							}
							d.N++
							return tx.Put("c", "k", d)
						})
						if err != nil {
							t.Error(err)
						}
					}
				})
			}
			wg.Wait()
			var d doc
			if err := s.View(ctx, func(tx store.Tx) error { return tx.Get("c", "k", &d) }); err != nil || d.N != 200 {
				t.Fatalf("counter = %d, %v; want 200", d.N, err)
			}
		})
	}
}

// A write acknowledged by Update survives kill -9 of the process that made it.
func TestDurableAcrossKill(t *testing.T) {
	if dir := os.Getenv("LAMB_STORE_CHILD"); dir != "" {
		s, err := store.Open(context.Background(), dir)
		if err != nil {
			fmt.Println("ERR", err)
			os.Exit(1)
		}
		for i := 0; ; i++ {
			if err := s.Update(context.Background(), func(tx store.Tx) error {
				return tx.Put("fn", "k", doc{N: i})
			}); err != nil {
				fmt.Println("ERR", err)
				os.Exit(1)
			}
			fmt.Println(i) // acknowledged
		}
	}
	dir := t.TempDir()
	cmd := exec.Command(os.Args[0], "-test.run=^TestDurableAcrossKill$")
	cmd.Env = append(os.Environ(), "LAMB_STORE_CHILD="+dir)
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	// Read acknowledgements until 50 are in, then kill -9 mid-stream.
	buf := make([]byte, 0, 4096)
	tmp := make([]byte, 512)
	last := -1
	for last < 50 {
		n, err := out.Read(tmp)
		if err != nil {
			t.Fatalf("child: %v (%s)", err, buf)
		}
		buf = append(buf, tmp[:n]...)
		lines := bytes.Split(buf, []byte("\n"))
		for _, l := range lines[:len(lines)-1] {
			if v, err := strconv.Atoi(string(l)); err == nil {
				last = v
			}
		}
		buf = lines[len(lines)-1]
	}
	_ = cmd.Process.Signal(syscall.SIGKILL)
	_ = cmd.Wait()
	s, err := store.Open(context.Background(), dir)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	var d doc
	if err := s.View(context.Background(), func(tx store.Tx) error { return tx.Get("fn", "k", &d) }); err != nil {
		t.Fatal(err)
	}
	if d.N < last {
		t.Fatalf("after kill -9: stored %d, but %d was acknowledged", d.N, last)
	}
}

func TestBoltBuckets(t *testing.T) {
	ctx := context.Background()
	b, err := store.Open(ctx, t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	steps := []struct {
		name string
		fn   func(tx store.Tx) error
		want []string
	}{
		{"empty", func(store.Tx) error { return nil }, nil},
		{"put creates", func(tx store.Tx) error { return tx.Put("b", "k", 1) }, []string{"b"}},
		{"sorted", func(tx store.Tx) error { return tx.Put("a", "k", 1) }, []string{"a", "b"}},
		{"delete of the last key keeps the bucket", func(tx store.Tx) error { return tx.Delete("a", "k") }, []string{"a", "b"}},
		{"delete in an absent bucket creates none", func(tx store.Tx) error { return tx.Delete("c", "k") }, []string{"a", "b"}},
	}
	for _, s := range steps {
		if err := b.Update(ctx, s.fn); err != nil {
			t.Fatalf("%s: %v", s.name, err)
		}
		got, err := b.Buckets(ctx)
		if err != nil {
			t.Fatalf("%s: %v", s.name, err)
		}
		if fmt.Sprint(got) != fmt.Sprint(s.want) {
			t.Errorf("%s: Buckets = %q, want %q", s.name, got, s.want)
		}
	}
}

func TestLoadEachAndAll(t *testing.T) {
	ctx := context.Background()
	for name, s := range stores(t) {
		t.Run(name, func(t *testing.T) {
			if err := s.Update(ctx, func(tx store.Tx) error {
				for i, k := range []string{"a/1", "a/2", "a/3", "b/1"} {
					if err := tx.Put("docs", k, doc{Name: k, N: i}); err != nil {
						return err
					}
				}
				// Not a doc: decoding it fails.
				return tx.Put("docs", "c/1", "text")
			}); err != nil {
				t.Fatal(err)
			}
			tests := []struct {
				name, prefix, start string
				stopAfter           int // 0: never
				want                string
				wantErr             string
			}{
				{name: "all under prefix", prefix: "a/", want: "[a/1=a/1:0 a/2=a/2:1 a/3=a/3:2]"},
				{name: "from start", prefix: "a/", start: "a/2", want: "[a/2=a/2:1 a/3=a/3:2]"},
				{name: "ErrStop ends quietly", prefix: "a/", stopAfter: 2, want: "[a/1=a/1:0 a/2=a/2:1]"},
				{name: "nothing", prefix: "none/", want: "[]"},
				{name: "undecodable", prefix: "c/", want: "[]", wantErr: "decode docs/c/1: json: cannot unmarshal string into Go value of type store_test.doc"},
			}
			for _, tc := range tests {
				t.Run(tc.name, func(t *testing.T) {
					got := []string{}
					err := s.View(ctx, func(tx store.Tx) error {
						return store.Each(tx, "docs", tc.prefix, tc.start, func(key string, d *doc) error {
							got = append(got, fmt.Sprintf("%s=%s:%d", key, d.Name, d.N))
							if len(got) == tc.stopAfter {
								return store.ErrStop
							}
							return nil
						})
					})
					if fmt.Sprint(got) != tc.want || fmt.Sprint(err) != fmt.Sprint(errOrNil(tc.wantErr)) {
						t.Errorf("Each = %v, %v; want %v, %v", got, err, tc.want, tc.wantErr)
					}
				})
			}
			for _, tc := range []struct {
				key, want string
				notFound  bool
			}{{"a/2", "a/2:1", false}, {"a/9", "", true}} {
				var d *doc
				err := s.View(ctx, func(tx store.Tx) (err error) {
					d, err = store.Load[doc](tx, "docs", tc.key)
					return err
				})
				if errors.Is(err, store.ErrNotFound) != tc.notFound || (d != nil && fmt.Sprintf("%s:%d", d.Name, d.N) != tc.want) || (d == nil) != tc.notFound {
					t.Errorf("Load(%s) = %v, %v; want %q (not found: %v)", tc.key, d, err, tc.want, tc.notFound)
				}
			}
			var all []*doc
			if err := s.View(ctx, func(tx store.Tx) (err error) {
				all, err = store.All[doc](tx, "docs", "a/")
				return err
			}); err != nil || len(all) != 3 || all[0].Name != "a/1" || all[2].Name != "a/3" {
				t.Errorf("All = %v, %v; want a/1..a/3", all, err)
			}
		})
	}
}

// errOrNil is an error with text msg, nil for "".
func errOrNil(msg string) error {
	if msg == "" {
		return nil
	}
	return errors.New(msg)
}

// The data dir holds every account's secrets: Open leaves it (its blobs and
// its database) to lamb's user alone, also when an older lamb made them
// world-readable.
func TestDataDirPrivate(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "data")
	if err := os.MkdirAll(filepath.Join(dir, "blobs"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "lamb.db"), nil, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	b, err := store.Open(context.Background(), dir)
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	for _, p := range []string{dir, filepath.Join(dir, "blobs")} {
		fi, err := os.Stat(p)
		if err != nil {
			t.Fatal(err)
		}
		if fi.Mode().Perm() != 0o700 {
			t.Errorf("%s: mode %v, want 0700", p, fi.Mode().Perm())
		}
	}
	fi, err := os.Stat(filepath.Join(dir, "lamb.db"))
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Perm() != 0o600 {
		t.Errorf("lamb.db: mode %v, want 0600", fi.Mode().Perm())
	}
}
