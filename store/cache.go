package store

import (
	"bytes"
	"encoding/json"
	"fmt"
	"sync"
)

// rawGetter is what a Tx offers Cache: the stored bytes of a document, valid
// until the transaction ends. Both of the package's stores have it.
type rawGetter interface {
	getRaw(bucket, key string) ([]byte, bool)
}

// Cache keeps documents decoded, for reads on a hot path (an Invoke reads its
// function's record on every call). An entry is used only while the stored
// bytes are exactly those it was decoded from, so it can never be stale: any
// write that changes the document changes the bytes. The zero Cache is ready
// to use and safe for concurrent use; it holds one entry per key read, and
// Forget drops one.
type Cache[T any] struct {
	mu sync.Mutex
	m  map[string]*cacheEntry[T]
}

type cacheEntry[T any] struct {
	raw []byte
	doc *T
}

// Load is Load[T] through the cache. The document returned is the caller's
// own shallow copy: its top-level fields may be set, but the maps, slices and
// pointers in it are shared with the cache and must not be modified.
func (c *Cache[T]) Load(tx Tx, bucket, key string) (*T, error) {
	rg, ok := tx.(rawGetter)
	if !ok {
		return Load[T](tx, bucket, key)
	}
	raw, found := rg.getRaw(bucket, key)
	if !found {
		c.Forget(bucket, key)
		return nil, fmt.Errorf("%s/%s: %w", bucket, key, ErrNotFound)
	}
	ck := bucket + "\x00" + key
	c.mu.Lock()
	e := c.m[ck]
	c.mu.Unlock()
	if e == nil || !bytes.Equal(e.raw, raw) {
		// Decoded outside the lock; two callers racing decode twice, harmlessly.
		doc := new(T)
		if err := json.Unmarshal(raw, doc); err != nil {
			return nil, fmt.Errorf("decode %s/%s: %w", bucket, key, err)
		}
		// raw is only valid inside the transaction (bolt): keep a copy.
		e = &cacheEntry[T]{raw: bytes.Clone(raw), doc: doc}
		c.mu.Lock()
		if c.m == nil {
			c.m = map[string]*cacheEntry[T]{}
		}
		c.m[ck] = e
		c.mu.Unlock()
	}
	cp := *e.doc
	return &cp, nil
}

// Forget drops the entry of bucket/key, if any (a deleted document).
func (c *Cache[T]) Forget(bucket, key string) {
	c.mu.Lock()
	delete(c.m, bucket+"\x00"+key)
	c.mu.Unlock()
}
