package eventsource

import (
	"encoding/json"
	"fmt"
	"strings"
)

// Filter is a mapping's FilterCriteria: a record passes when any of its
// patterns matches it (none: every record passes). Patterns use AWS's
// filter pattern language, the one EventBridge rules use: exact values,
// prefix, suffix, equals-ignore-case, numeric ranges, exists, anything-but
// and $or.
type Filter struct {
	patterns []map[string]any
}

// ParseFilter reads the Pattern strings of FilterCriteria.Filters.
func ParseFilter(patterns []string) (*Filter, error) {
	f := &Filter{}
	for _, p := range patterns {
		var m map[string]any
		d := json.NewDecoder(strings.NewReader(p))
		d.UseNumber()
		if err := d.Decode(&m); err != nil {
			return nil, fmt.Errorf("filter pattern %q: %w", p, err)
		}
		if err := checkPattern(m); err != nil {
			return nil, fmt.Errorf("filter pattern %q: %w", p, err)
		}
		f.patterns = append(f.patterns, m)
	}
	return f, nil
}

// checkPattern refuses a pattern whose leaves are not arrays of matchers.
func checkPattern(p map[string]any) error {
	for k, v := range p {
		switch v := v.(type) {
		case map[string]any:
			if err := checkPattern(v); err != nil {
				return err
			}
		case []any:
			if k == "$or" {
				for _, alt := range v {
					m, ok := alt.(map[string]any)
					if !ok {
						return fmt.Errorf("$or takes objects")
					}
					if err := checkPattern(m); err != nil {
						return err
					}
				}
			}
		default:
			return fmt.Errorf("%q: a pattern's values are objects or arrays", k)
		}
	}
	return nil
}

// Empty reports whether the filter lets every record through.
func (f *Filter) Empty() bool { return f == nil || len(f.patterns) == 0 }

// Match reports whether a record (as a JSON-decoded object, numbers as
// json.Number or float64) passes the filter.
func (f *Filter) Match(record map[string]any) bool {
	if f.Empty() {
		return true
	}
	for _, p := range f.patterns {
		if matchObject(p, record) {
			return true
		}
	}
	return false
}

func matchObject(p map[string]any, ev map[string]any) bool {
	for k, pv := range p {
		if k == "$or" {
			alts, _ := pv.([]any)
			matched := false
			for _, alt := range alts {
				if m, ok := alt.(map[string]any); ok && matchObject(m, ev) {
					matched = true
					break
				}
			}
			if !matched {
				return false
			}
			continue
		}
		v, present := ev[k]
		switch pv := pv.(type) {
		case map[string]any:
			sub, ok := v.(map[string]any)
			if !ok {
				// A nested pattern can still be satisfied by "exists": false leaves.
				if !matchObject(pv, map[string]any{}) {
					return false
				}
				continue
			}
			if !matchObject(pv, sub) {
				return false
			}
		case []any:
			if !matchLeaf(pv, v, present) {
				return false
			}
		default:
			return false
		}
	}
	return true
}

// matchLeaf reports whether any matcher of ms matches the value (any
// element of it, when it is an array).
func matchLeaf(ms []any, v any, present bool) bool {
	vals := []any{v}
	if arr, ok := v.([]any); ok {
		vals = arr
	}
	for _, m := range ms {
		if obj, ok := m.(map[string]any); ok {
			if e, ok := obj["exists"].(bool); ok {
				if e == present {
					return true
				}
				continue
			}
		}
		if !present {
			continue
		}
		for _, val := range vals {
			if matchOne(m, val) {
				return true
			}
		}
	}
	return false
}

func matchOne(m any, v any) bool {
	switch m := m.(type) {
	case nil:
		return v == nil
	case string:
		s, ok := v.(string)
		return ok && s == m
	case bool:
		b, ok := v.(bool)
		return ok && b == m
	case json.Number:
		n, ok := number(v)
		mf, err := m.Float64()
		return ok && err == nil && n == mf
	case map[string]any:
		for op, arg := range m {
			switch op {
			case "prefix":
				s, ok := v.(string)
				if p, isStr := arg.(string); isStr {
					return ok && strings.HasPrefix(s, p)
				}
				if o, isObj := arg.(map[string]any); isObj {
					p, _ := o["equals-ignore-case"].(string)
					return ok && strings.HasPrefix(strings.ToLower(s), strings.ToLower(p))
				}
				return false
			case "suffix":
				s, ok := v.(string)
				if p, isStr := arg.(string); isStr {
					return ok && strings.HasSuffix(s, p)
				}
				if o, isObj := arg.(map[string]any); isObj {
					p, _ := o["equals-ignore-case"].(string)
					return ok && strings.HasSuffix(strings.ToLower(s), strings.ToLower(p))
				}
				return false
			case "equals-ignore-case":
				s, ok := v.(string)
				p, _ := arg.(string)
				return ok && strings.EqualFold(s, p)
			case "numeric":
				return matchNumeric(arg, v)
			case "anything-but":
				return matchAnythingBut(arg, v)
			}
		}
	}
	return false
}

func number(v any) (float64, bool) {
	switch n := v.(type) {
	case json.Number:
		f, err := n.Float64()
		return f, err == nil
	case float64:
		return n, true
	case int:
		return float64(n), true
	}
	return 0, false
}

// matchNumeric reads [op, n, op, n]: "=", "<", "<=", ">", ">=".
func matchNumeric(arg any, v any) bool {
	n, ok := number(v)
	if !ok {
		return false
	}
	ops, _ := arg.([]any)
	if len(ops) == 0 || len(ops)%2 != 0 {
		return false
	}
	for i := 0; i < len(ops); i += 2 {
		op, _ := ops[i].(string)
		bound, ok := number(ops[i+1])
		if !ok {
			return false
		}
		var pass bool
		switch op {
		case "=":
			pass = n == bound
		case "<":
			pass = n < bound
		case "<=":
			pass = n <= bound
		case ">":
			pass = n > bound
		case ">=":
			pass = n >= bound
		}
		if !pass {
			return false
		}
	}
	return true
}

// matchAnythingBut: a value, a list of values, or {"prefix"|"suffix": s}.
func matchAnythingBut(arg any, v any) bool {
	switch a := arg.(type) {
	case []any:
		for _, x := range a {
			if matchOne(x, v) {
				return false
			}
		}
		return true
	case map[string]any:
		return !matchOne(a, v)
	default:
		return !matchOne(a, v)
	}
}
