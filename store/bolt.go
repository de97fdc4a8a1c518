package store

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"time"

	bolt "go.etcd.io/bbolt"
)

// ErrReadOnly is returned by writes inside a View transaction.
var ErrReadOnly = errors.New("write in a read-only transaction")

// Bolt is the durable Store: documents in a bbolt database (one file, B+tree,
// fsync on every commit, so an acknowledged write survives kill -9) and blobs as
// files named by their sha256, written to a temporary name, synced, then renamed.
type Bolt struct {
	db      *bolt.DB
	blobDir string
}

// Open opens (creating if needed) the durable store in dir.
func Open(ctx context.Context, dir string) (*Bolt, error) {
	// The data dir holds every account's environment variables and code:
	// only lamb's user may enter it, whatever mode an older lamb gave it.
	blobDir := filepath.Join(dir, "blobs")
	if err := os.MkdirAll(blobDir, 0o700); err != nil {
		return nil, fmt.Errorf("create data dir: %w", err)
	}
	for _, d := range []string{dir, blobDir} {
		// A mount point lamb's user does not own (a volume) keeps its mode.
		if err := os.Chmod(d, 0o700); err != nil && !errors.Is(err, fs.ErrPermission) {
			return nil, fmt.Errorf("data dir: %w", err)
		}
	}
	// The timeout turns "another lamb holds this data dir" into an error instead of a hang.
	db, err := bolt.Open(filepath.Join(dir, "lamb.db"), 0o600, &bolt.Options{Timeout: 2 * time.Second})
	if err != nil {
		return nil, fmt.Errorf("open database in %s (is another lamb using it?): %w", dir, err)
	}
	// bbolt applies its mode only to a file it creates: one an older lamb
	// made readable to others (0644) is narrowed here. The dir's 0700 is what
	// keeps others out; this covers a data dir on a mount lamb cannot chmod.
	if err := os.Chmod(db.Path(), 0o600); err != nil && !errors.Is(err, fs.ErrPermission) {
		db.Close()
		return nil, fmt.Errorf("data dir: %w", err)
	}
	b := &Bolt{db: db, blobDir: blobDir}
	// Holding the database lock, no other lamb writes here: a temporary
	// file is what a PutBlob cut short by a crash left behind.
	if err := b.removeTemps(); err != nil {
		db.Close()
		return nil, err
	}
	return b, nil
}

// removeTemps removes the temporary files of blob writes that never finished.
func (b *Bolt) removeTemps() error {
	shards, err := os.ReadDir(b.blobDir)
	if err != nil {
		return fmt.Errorf("read blob dir: %w", err)
	}
	for _, sh := range shards {
		if !sh.IsDir() {
			continue
		}
		files, err := os.ReadDir(filepath.Join(b.blobDir, sh.Name()))
		if err != nil {
			return fmt.Errorf("read blob dir: %w", err)
		}
		for _, f := range files {
			if strings.HasPrefix(f.Name(), ".tmp-") {
				if err := os.Remove(filepath.Join(b.blobDir, sh.Name(), f.Name())); err != nil && !errors.Is(err, os.ErrNotExist) {
					return fmt.Errorf("remove unfinished blob: %w", err)
				}
			}
		}
	}
	return nil
}

// View implements Store.
func (b *Bolt) View(ctx context.Context, fn func(tx Tx) error) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	return b.db.View(func(tx *bolt.Tx) error { return fn(&boltTx{tx: tx}) })
}

// Update implements Store.
func (b *Bolt) Update(ctx context.Context, fn func(tx Tx) error) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	return b.db.Update(func(tx *bolt.Tx) error { return fn(&boltTx{tx: tx}) })
}

func (b *Bolt) blobPath(h string) (string, error) {
	if len(h) != sha256.Size*2 {
		return "", fmt.Errorf("blob %q: %w", h, ErrNotFound)
	}
	if _, err := hex.DecodeString(h); err != nil {
		return "", fmt.Errorf("blob %q: %w", h, ErrNotFound)
	}
	return filepath.Join(b.blobDir, h[:2], h), nil
}

// PutBlob implements Store.
func (b *Bolt) PutBlob(ctx context.Context, data []byte) (string, error) {
	sum := sha256.Sum256(data)
	h := hex.EncodeToString(sum[:])
	p, _ := b.blobPath(h)
	if _, err := os.Stat(p); err == nil {
		return h, nil
	}
	dir := filepath.Dir(p)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return "", fmt.Errorf("store blob: %w", err)
	}
	f, err := os.CreateTemp(dir, ".tmp-*")
	if errors.Is(err, os.ErrNotExist) {
		// DeleteBlob removed the (then empty) shard directory between
		// MkdirAll and CreateTemp: make it again.
		if err = os.MkdirAll(dir, 0o700); err == nil {
			f, err = os.CreateTemp(dir, ".tmp-*")
		}
	}
	if err != nil {
		return "", fmt.Errorf("store blob: %w", err)
	}
	tmp := f.Name()
	defer os.Remove(tmp) // no-op after the rename
	if _, err := f.Write(data); err != nil {
		f.Close()
		return "", fmt.Errorf("store blob: %w", err)
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return "", fmt.Errorf("store blob: %w", err)
	}
	if err := f.Close(); err != nil {
		return "", fmt.Errorf("store blob: %w", err)
	}
	if err := os.Rename(tmp, p); err != nil {
		return "", fmt.Errorf("store blob: %w", err)
	}
	// The rename is durable only once the directory entry is synced.
	if d, err := os.Open(dir); err == nil {
		_ = d.Sync()
		d.Close()
	}
	return h, nil
}

// Blobs implements Store. Temporary files of writes in progress are not blobs.
func (b *Bolt) Blobs(ctx context.Context, fn func(sha256hex string, size int64) error) error {
	shards, err := os.ReadDir(b.blobDir)
	if err != nil {
		return fmt.Errorf("list blobs: %w", err)
	}
	for _, sh := range shards {
		if !sh.IsDir() || len(sh.Name()) != 2 {
			continue
		}
		if err := ctx.Err(); err != nil {
			return err
		}
		files, err := os.ReadDir(filepath.Join(b.blobDir, sh.Name()))
		if errors.Is(err, os.ErrNotExist) {
			continue // removed meanwhile by DeleteBlob
		}
		if err != nil {
			return fmt.Errorf("list blobs: %w", err)
		}
		for _, f := range files {
			h := f.Name()
			if p, err := b.blobPath(h); err != nil || filepath.Base(filepath.Dir(p)) != sh.Name() || !f.Type().IsRegular() {
				continue
			}
			info, err := f.Info()
			if errors.Is(err, os.ErrNotExist) {
				continue
			}
			if err != nil {
				return fmt.Errorf("list blobs: %w", err)
			}
			if err := fn(h, info.Size()); err != nil {
				if errors.Is(err, ErrStop) {
					return nil
				}
				return err
			}
		}
	}
	return nil
}

// DeleteBlob implements Store. The shard directory goes too once it is empty.
func (b *Bolt) DeleteBlob(ctx context.Context, h string) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	p, err := b.blobPath(h)
	if err != nil {
		return nil // no such key can be stored
	}
	if err := os.Remove(p); err != nil && !errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("delete blob: %w", err)
	}
	dir := filepath.Dir(p)
	// Fails, harmlessly, while the shard holds other blobs or a write in progress.
	_ = os.Remove(dir)
	// As with PutBlob's rename, the removal is durable once the directory is synced.
	if d, err := os.Open(filepath.Dir(dir)); err == nil {
		_ = d.Sync()
		d.Close()
	}
	return nil
}

// OpenBlob implements Store.
func (b *Bolt) OpenBlob(ctx context.Context, h string) (io.ReadCloser, int64, error) {
	p, err := b.blobPath(h)
	if err != nil {
		return nil, 0, err
	}
	f, err := os.Open(p)
	if errors.Is(err, os.ErrNotExist) {
		return nil, 0, fmt.Errorf("blob %s: %w", h, ErrNotFound)
	}
	if err != nil {
		return nil, 0, fmt.Errorf("open blob: %w", err)
	}
	st, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, 0, fmt.Errorf("open blob: %w", err)
	}
	return f, st.Size(), nil
}

// Close implements Store.
func (b *Bolt) Close() error { return b.db.Close() }

// Buckets returns the names of the buckets in the database, sorted. A bucket
// exists from its first Put on, even once its keys are deleted; tests use
// this to check that every bucket written is one the callers know of.
func (b *Bolt) Buckets(ctx context.Context) ([]string, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	var names []string
	err := b.db.View(func(tx *bolt.Tx) error {
		return tx.ForEach(func(name []byte, _ *bolt.Bucket) error {
			names = append(names, string(name))
			return nil
		})
	})
	if err != nil {
		return nil, fmt.Errorf("list buckets: %w", err)
	}
	return names, nil
}

type boltTx struct{ tx *bolt.Tx }

func (t *boltTx) getRaw(bucket, key string) ([]byte, bool) {
	bk := t.tx.Bucket([]byte(bucket))
	if bk == nil {
		return nil, false
	}
	raw := bk.Get([]byte(key))
	return raw, raw != nil
}

func (t *boltTx) Get(bucket, key string, v any) error {
	bk := t.tx.Bucket([]byte(bucket))
	var raw []byte
	if bk != nil {
		raw = bk.Get([]byte(key))
	}
	if raw == nil {
		return fmt.Errorf("%s/%s: %w", bucket, key, ErrNotFound)
	}
	return json.Unmarshal(raw, v)
}

func (t *boltTx) Put(bucket, key string, v any) error {
	if !t.tx.Writable() {
		return ErrReadOnly
	}
	raw, err := json.Marshal(v)
	if err != nil {
		return fmt.Errorf("encode %s/%s: %w", bucket, key, err)
	}
	bk, err := t.tx.CreateBucketIfNotExists([]byte(bucket))
	if err != nil {
		return fmt.Errorf("bucket %s: %w", bucket, err)
	}
	return bk.Put([]byte(key), raw)
}

func (t *boltTx) Delete(bucket, key string) error {
	if !t.tx.Writable() {
		return ErrReadOnly
	}
	bk := t.tx.Bucket([]byte(bucket))
	if bk == nil {
		return nil
	}
	return bk.Delete([]byte(key))
}

func (t *boltTx) Scan(bucket, prefix, start string, fn func(key string, raw []byte) error) error {
	bk := t.tx.Bucket([]byte(bucket))
	if bk == nil {
		return nil
	}
	seek := prefix
	if start > seek {
		seek = start
	}
	c := bk.Cursor()
	p := []byte(prefix)
	for k, v := c.Seek([]byte(seek)); k != nil && bytes.HasPrefix(k, p); k, v = c.Next() {
		if err := fn(string(k), v); err != nil {
			if errors.Is(err, ErrStop) {
				return nil
			}
			return err
		}
	}
	return nil
}
