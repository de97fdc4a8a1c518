package api

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

// scanFrom is where a Scan over prefix resumes for the request's Marker
// ("" starts at the beginning).
func scanFrom(c *call, prefix string) string {
	if m := c.Query.Get("Marker"); m != "" {
		return prefix + m
	}
	return ""
}

// listPage collects one page of a List answer: the first item that no longer
// fits becomes the NextMarker.
type listPage[T any] struct {
	items []T // never nil: AWS answers an empty list as [].
	next  string
	max   int
}

func newPage[T any](maxItems int) *listPage[T] {
	return &listPage[T]{items: []T{}, max: maxItems}
}

// add appends item, or, when the page is full, keeps key as the next marker
// and reports false so the caller stops.
func (p *listPage[T]) add(key string, item T) bool {
	if len(p.items) == p.max {
		p.next = key
		return false
	}
	p.items = append(p.items, item)
	return true
}
