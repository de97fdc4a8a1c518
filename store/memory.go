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
	"sort"
	"strings"
	"sync"
)

// Memory is a Store that keeps everything in memory, for --ephemeral and tests.
type Memory struct {
	mu      sync.RWMutex
	buckets map[string]map[string][]byte
	blobs   map[string][]byte
}

// NewMemory returns an empty in-memory store.
func NewMemory() *Memory {
	return &Memory{buckets: map[string]map[string][]byte{}, blobs: map[string][]byte{}}
}

// View implements Store.
func (m *Memory) View(ctx context.Context, fn func(tx Tx) error) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	m.mu.RLock()
	defer m.mu.RUnlock()
	return fn(&memTx{m: m})
}

// Update implements Store. Writes go to an overlay that is applied only when fn
// succeeds, so a failed transaction leaves nothing behind.
func (m *Memory) Update(ctx context.Context, fn func(tx Tx) error) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	tx := &memTx{m: m, writable: true, overlay: map[string]map[string][]byte{}}
	if err := fn(tx); err != nil {
		return err
	}
	for b, kv := range tx.overlay {
		dst := m.buckets[b]
		if dst == nil {
			dst = map[string][]byte{}
			m.buckets[b] = dst
		}
		for k, v := range kv {
			if v == nil {
				delete(dst, k)
			} else {
				dst[k] = v
			}
		}
	}
	return nil
}

// PutBlob implements Store.
func (m *Memory) PutBlob(ctx context.Context, data []byte) (string, error) {
	sum := sha256.Sum256(data)
	h := hex.EncodeToString(sum[:])
	m.mu.Lock()
	defer m.mu.Unlock()
	if _, ok := m.blobs[h]; !ok {
		m.blobs[h] = bytes.Clone(data)
	}
	return h, nil
}

// OpenBlob implements Store.
func (m *Memory) OpenBlob(ctx context.Context, h string) (io.ReadCloser, int64, error) {
	m.mu.RLock()
	defer m.mu.RUnlock()
	b, ok := m.blobs[h]
	if !ok {
		return nil, 0, fmt.Errorf("blob %s: %w", h, ErrNotFound)
	}
	return io.NopCloser(bytes.NewReader(b)), int64(len(b)), nil
}

// Blobs implements Store.
func (m *Memory) Blobs(ctx context.Context, fn func(sha256hex string, size int64) error) error {
	m.mu.RLock()
	sizes := make(map[string]int64, len(m.blobs))
	for h, b := range m.blobs {
		sizes[h] = int64(len(b))
	}
	m.mu.RUnlock()
	// fn runs unlocked, so that it may call DeleteBlob.
	for h, n := range sizes {
		if err := fn(h, n); err != nil {
			if errors.Is(err, ErrStop) {
				return nil
			}
			return err
		}
	}
	return nil
}

// DeleteBlob implements Store.
func (m *Memory) DeleteBlob(ctx context.Context, h string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	delete(m.blobs, h)
	return nil
}

// Close implements Store.
func (m *Memory) Close() error { return nil }

type memTx struct {
	m        *Memory
	writable bool
	overlay  map[string]map[string][]byte // nil value = deleted
}

func (t *memTx) lookup(bucket, key string) ([]byte, bool) {
	if kv, ok := t.overlay[bucket]; ok {
		if v, ok := kv[key]; ok {
			return v, v != nil
		}
	}
	v, ok := t.m.buckets[bucket][key]
	return v, ok
}

func (t *memTx) getRaw(bucket, key string) ([]byte, bool) { return t.lookup(bucket, key) }

func (t *memTx) Get(bucket, key string, v any) error {
	raw, ok := t.lookup(bucket, key)
	if !ok {
		return fmt.Errorf("%s/%s: %w", bucket, key, ErrNotFound)
	}
	return json.Unmarshal(raw, v)
}

func (t *memTx) set(bucket, key string, raw []byte) error {
	if !t.writable {
		return ErrReadOnly
	}
	kv := t.overlay[bucket]
	if kv == nil {
		kv = map[string][]byte{}
		t.overlay[bucket] = kv
	}
	kv[key] = raw
	return nil
}

func (t *memTx) Put(bucket, key string, v any) error {
	raw, err := json.Marshal(v)
	if err != nil {
		return fmt.Errorf("encode %s/%s: %w", bucket, key, err)
	}
	return t.set(bucket, key, raw)
}

func (t *memTx) Delete(bucket, key string) error { return t.set(bucket, key, nil) }

func (t *memTx) Scan(bucket, prefix, start string, fn func(key string, raw []byte) error) error {
	keys := map[string]struct{}{}
	for k := range t.m.buckets[bucket] {
		keys[k] = struct{}{}
	}
	for k := range t.overlay[bucket] {
		keys[k] = struct{}{}
	}
	sorted := make([]string, 0, len(keys))
	for k := range keys {
		if strings.HasPrefix(k, prefix) && k >= start {
			sorted = append(sorted, k)
		}
	}
	sort.Strings(sorted)
	for _, k := range sorted {
		raw, ok := t.lookup(bucket, k)
		if !ok {
			continue
		}
		if err := fn(k, raw); err != nil {
			if errors.Is(err, ErrStop) {
				return nil
			}
			return err
		}
	}
	return nil
}
