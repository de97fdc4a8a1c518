// Package store keeps lamb's durable state: documents in buckets (functions, layers,
// ...) and content-addressed blobs (code and layer zips).
//
// Documents are JSON values under string keys, read and written in transactions: a
// transaction's writes are all visible or none are, and once Update returns nil they
// are on disk (for the durable store). The record types belong to the callers; the
// store only orders keys and keeps bytes.
package store

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
)

// ErrNotFound is returned by Get and OpenBlob when nothing is stored under the key.
var ErrNotFound = errors.New("not found")

// Store is safe for concurrent use. Update transactions are serialised.
type Store interface {
	// View runs fn in a read-only transaction.
	View(ctx context.Context, fn func(tx Tx) error) error
	// Update runs fn in a read-write transaction, committed (and synced to disk)
	// when fn returns nil and rolled back otherwise; fn's error is returned as is.
	Update(ctx context.Context, fn func(tx Tx) error) error

	// PutBlob stores data under its sha256 (hex) and returns it. Storing the same
	// bytes twice keeps one copy. The blob is durable when PutBlob returns.
	PutBlob(ctx context.Context, data []byte) (sha256hex string, err error)
	// OpenBlob returns a blob's content and size; ErrNotFound if it is not stored.
	OpenBlob(ctx context.Context, sha256hex string) (io.ReadCloser, int64, error)
	// Blobs calls fn with the key and size of every stored blob, in no
	// particular order. Returning ErrStop from fn ends it without error.
	Blobs(ctx context.Context, fn func(sha256hex string, size int64) error) error
	// DeleteBlob removes a blob; removing an absent one is not an error. The
	// store does not know who references a blob: the caller must make sure
	// nothing does and that no PutBlob of the same bytes runs meanwhile
	// (api/gc.go).
	DeleteBlob(ctx context.Context, sha256hex string) error

	Close() error
}

// Tx reads and writes documents. It must not be used after its function returns.
type Tx interface {
	// Get decodes the JSON document at bucket/key into v; ErrNotFound if absent.
	Get(bucket, key string, v any) error
	// Put encodes v as JSON and stores it at bucket/key (Update only).
	Put(bucket, key string, v any) error
	// Delete removes bucket/key; deleting an absent key is not an error (Update only).
	Delete(bucket, key string) error
	// Scan calls fn for each key in bucket that starts with prefix, in byte order of
	// keys, starting at the first key >= start (start may be ""). Returning ErrStop
	// from fn ends the scan without error.
	Scan(bucket, prefix, start string, fn func(key string, raw []byte) error) error
}

// ErrStop ends a Scan early without error.
var ErrStop = errors.New("stop scan")

// Load is Get into a new T.
func Load[T any](tx Tx, bucket, key string) (*T, error) {
	doc := new(T)
	if err := tx.Get(bucket, key, doc); err != nil {
		return nil, err
	}
	return doc, nil
}

// Each is Scan with every document decoded as a T (a decode error names the
// key and ends the scan). fn's ErrStop ends it without error, as for Scan.
func Each[T any](tx Tx, bucket, prefix, start string, fn func(key string, doc *T) error) error {
	return tx.Scan(bucket, prefix, start, func(key string, raw []byte) error {
		var doc T
		if err := json.Unmarshal(raw, &doc); err != nil {
			return fmt.Errorf("decode %s/%s: %w", bucket, key, err)
		}
		return fn(key, &doc)
	})
}

// All returns the documents of bucket under prefix decoded as T, in key order.
func All[T any](tx Tx, bucket, prefix string) ([]*T, error) {
	var out []*T
	err := Each(tx, bucket, prefix, "", func(_ string, doc *T) error {
		out = append(out, doc)
		return nil
	})
	return out, err
}
