package api

import (
	"encoding/base64"
	"strconv"

	"github.com/lambhq/lamb/store"
)

// Every List operation pages one way. A NextMarker is the key of the first
// entry of the next page (a name, an id, a qualifier: whatever the list is
// keyed by), base64url-encoded so that clients treat it as opaque, as they do
// AWS's. A request's Marker resumes at the entry with that key. Where the
// entries are a store scan in key order, the scan starts there (resumeAt),
// so a marker whose entry was deleted in between resumes at the next one;
// other lists skip up to the entry, and answer an empty last page without it.

// encodeMarker is the NextMarker that resumes at the entry keyed key.
func encodeMarker(key string) string { return base64.RawURLEncoding.EncodeToString([]byte(key)) }

// decodeMarker is the key a Marker resumes at ("" for none), or AWS's answer
// to a marker it never gave.
func decodeMarker(marker string) (string, error) {
	key, err := base64.RawURLEncoding.DecodeString(marker)
	if err != nil {
		return "", errInvalidParameter("Invalid marker: %s", marker)
	}
	return string(key), nil
}

// pageSize reads the MaxItems query (1..limit) for a List operation and
// answers def when the client sent none.
func pageSize(c *call, limit, def int) (int, error) {
	var v validationError
	maxItems, err := parseMaxItems(c, &v, limit)
	if err != nil {
		return 0, err
	}
	if err := v.err(); err != nil {
		return 0, err
	}
	if maxItems == 0 {
		maxItems = def
	}
	return maxItems, nil
}

// listRequest reads what a List operation of one function reads first: the
// function (resolve), then MaxItems (see pageSize).
func listRequest(c *call, resolve func(*call) (functionRef, error), limit, def int) (functionRef, int, error) {
	ref, err := resolve(c)
	if err != nil {
		return ref, 0, err
	}
	maxItems, err := pageSize(c, limit, def)
	return ref, maxItems, err
}

// parseMaxItems reads the MaxItems query (0 when absent), recording range
// violations in v.
func parseMaxItems(c *call, v *validationError, limit int) (int, error) {
	raw := c.Query.Get("MaxItems")
	if raw == "" {
		return 0, nil
	}
	n, err := strconv.Atoi(raw)
	if err != nil {
		return 0, newError("InvalidRequestContentException", "Could not parse MaxItems: %s is not a number", raw)
	}
	switch {
	case n < 1:
		v.add(raw, "maxItems", "Member must have value greater than or equal to 1")
	case n > limit:
		v.add(raw, "maxItems", "Member must have value less than or equal to "+strconv.Itoa(limit))
	}
	return n, nil
}

// listPage collects one page of a List answer from the list's entries offered
// in order (add): those before the request's marker are skipped, and the
// first one that no longer fits becomes the NextMarker.
type listPage[T any] struct {
	items []T // never nil: AWS answers an empty list as [].
	next  string
	max   int
	from  string // key of the first entry to show; "" from the start
}

// newPage starts the page of maxItems entries that the request's Marker asks for.
func newPage[T any](c *call, maxItems int) (*listPage[T], error) {
	from, err := decodeMarker(c.Query.Get("Marker"))
	if err != nil {
		return nil, err
	}
	return &listPage[T]{items: []T{}, max: maxItems, from: from}, nil
}

// pageOf is the page of items (a whole list, in order) the request asks for.
func pageOf[T any](c *call, items []T, maxItems int, key func(T) string) (*listPage[T], error) {
	p, err := newPage[T](c, maxItems)
	if err != nil {
		return nil, err
	}
	for _, it := range items {
		if !p.add(key(it), it) {
			break
		}
	}
	return p, nil
}

// add offers the entry keyed key (never "": that would be no marker). It
// reports false once the page is full, so the caller stops.
func (p *listPage[T]) add(key string, item T) bool {
	if p.from != "" {
		if key != p.from {
			return true
		}
		p.from = ""
	}
	if len(p.items) == p.max {
		p.next = encodeMarker(key)
		return false
	}
	p.items = append(p.items, item)
	return true
}

// scanPage fills p from bucket's documents under prefix, keyed prefix+entry
// key, from the marker's entry on (or where it stood). entry is a document's
// key and list item; ok false leaves the document out.
func scanPage[D, T any](tx store.Tx, p *listPage[T], bucket, prefix string, entry func(doc *D) (key string, item T, ok bool)) error {
	return store.Each(tx, bucket, prefix, p.resumeAt(prefix), func(_ string, doc *D) error {
		if key, item, ok := entry(doc); ok && !p.add(key, item) {
			return store.ErrStop
		}
		return nil
	})
}

// resumeAt is where a store Scan over prefix starts when the list's entries
// are the scan's documents, keyed prefix+entry key: at the marker's entry or
// where it stood. The scan does the skipping then, so add no longer does.
func (p *listPage[T]) resumeAt(prefix string) string {
	if p.from == "" {
		return ""
	}
	start := prefix + p.from
	p.from = ""
	return start
}
