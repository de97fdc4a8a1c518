package api

import (
	"encoding/json"
	"fmt"
	"path"
	"regexp"
	"strconv"
	"strings"
	"unicode"
)

// A logFilter is a CloudWatch Logs filter pattern, compiled:
//
//	""                       every event
//	ERROR Exception          events with both terms (case-sensitive substrings)
//	"an exact phrase"        a quoted phrase
//	?ERROR ?WARN             events with either (optional terms)
//	ERROR -Retry             ERROR without Retry (exclusions)
//	%regex%                  a regular expression
//	{ $.level = "ERROR" }    a JSON selector: =, !=, <, <=, >, >=, strings with
//	                         * wildcards, numbers, IS TRUE|FALSE|NULL,
//	                         NOT EXISTS, && and || with parentheses
//
// Space-delimited patterns ([ip, user, ...]) are refused.
type logFilter func(message string) bool

func compileFilter(pattern string) (logFilter, error) {
	p := strings.TrimSpace(pattern)
	switch {
	case p == "":
		return func(string) bool { return true }, nil
	case strings.HasPrefix(p, "{"):
		if !strings.HasSuffix(p, "}") {
			return nil, fmt.Errorf("a JSON filter pattern ends with }")
		}
		jp := &jsonParser{src: p[1 : len(p)-1]}
		expr, err := jp.parseOr()
		if err != nil {
			return nil, err
		}
		if jp.skip(); jp.pos < len(jp.src) {
			return nil, fmt.Errorf("unexpected %q in JSON filter pattern", jp.src[jp.pos:])
		}
		return func(msg string) bool {
			var doc any
			if json.Unmarshal([]byte(msg), &doc) != nil {
				return false
			}
			return expr(doc)
		}, nil
	case strings.HasPrefix(p, "["):
		return nil, fmt.Errorf("lamb does not support space-delimited filter patterns")
	case len(p) > 1 && p[0] == '%' && p[len(p)-1] == '%':
		re, err := regexp.Compile(p[1 : len(p)-1])
		if err != nil {
			return nil, fmt.Errorf("bad regular expression: %w", err)
		}
		return re.MatchString, nil
	}
	var required, optional, excluded []string
	for rest := p; ; {
		rest = strings.TrimLeftFunc(rest, unicode.IsSpace)
		if rest == "" {
			break
		}
		kind := byte(0)
		if rest[0] == '?' || rest[0] == '-' {
			kind, rest = rest[0], rest[1:]
		}
		var term string
		if strings.HasPrefix(rest, `"`) {
			end := strings.Index(rest[1:], `"`)
			if end < 0 {
				return nil, fmt.Errorf("unterminated quoted phrase in filter pattern")
			}
			term, rest = rest[1:1+end], rest[2+end:]
		} else {
			end := strings.IndexFunc(rest, unicode.IsSpace)
			if end < 0 {
				end = len(rest)
			}
			term, rest = rest[:end], rest[end:]
		}
		if term == "" {
			continue
		}
		switch kind {
		case '?':
			optional = append(optional, term)
		case '-':
			excluded = append(excluded, term)
		default:
			required = append(required, term)
		}
	}
	return func(msg string) bool {
		for _, t := range required {
			if !strings.Contains(msg, t) {
				return false
			}
		}
		for _, t := range excluded {
			if strings.Contains(msg, t) {
				return false
			}
		}
		if len(optional) == 0 {
			return true
		}
		for _, t := range optional {
			if strings.Contains(msg, t) {
				return true
			}
		}
		return false
	}, nil
}

// jsonExpr is a compiled JSON selector expression over a decoded event.
type jsonExpr func(doc any) bool

type jsonParser struct {
	src string
	pos int
}

func (p *jsonParser) skip() {
	for p.pos < len(p.src) && unicode.IsSpace(rune(p.src[p.pos])) {
		p.pos++
	}
}

func (p *jsonParser) accept(tok string) bool {
	p.skip()
	if strings.HasPrefix(p.src[p.pos:], tok) {
		p.pos += len(tok)
		return true
	}
	return false
}

func (p *jsonParser) parseOr() (jsonExpr, error) {
	left, err := p.parseAnd()
	if err != nil {
		return nil, err
	}
	for p.accept("||") {
		right, err := p.parseAnd()
		if err != nil {
			return nil, err
		}
		l := left
		left = func(d any) bool { return l(d) || right(d) }
	}
	return left, nil
}

func (p *jsonParser) parseAnd() (jsonExpr, error) {
	left, err := p.parseTerm()
	if err != nil {
		return nil, err
	}
	for p.accept("&&") {
		right, err := p.parseTerm()
		if err != nil {
			return nil, err
		}
		l := left
		left = func(d any) bool { return l(d) && right(d) }
	}
	return left, nil
}

var jsonSelectorRE = regexp.MustCompile(`^\$(\.[A-Za-z0-9_@\-]+|\[\d+\]|\.\*)*`)

func (p *jsonParser) parseTerm() (jsonExpr, error) {
	if p.accept("(") {
		e, err := p.parseOr()
		if err != nil {
			return nil, err
		}
		if !p.accept(")") {
			return nil, fmt.Errorf("missing ) in JSON filter pattern")
		}
		return e, nil
	}
	p.skip()
	sel := jsonSelectorRE.FindString(p.src[p.pos:])
	if sel == "" || sel == "$" {
		return nil, fmt.Errorf("expected a selector ($.field) at %q", p.src[p.pos:])
	}
	p.pos += len(sel)
	get := func(d any) (any, bool) { return selectJSON(d, sel) }
	p.skip()
	upper := strings.ToUpper(p.src[p.pos:])
	switch {
	case strings.HasPrefix(upper, "IS TRUE"), strings.HasPrefix(upper, "IS FALSE"):
		want := strings.HasPrefix(upper, "IS TRUE")
		p.pos += len("IS TRUE")
		if !want {
			p.pos++
		}
		return func(d any) bool { v, ok := get(d); b, isB := v.(bool); return ok && isB && b == want }, nil
	case strings.HasPrefix(upper, "IS NULL"):
		p.pos += len("IS NULL")
		return func(d any) bool { v, ok := get(d); return ok && v == nil }, nil
	case strings.HasPrefix(upper, "NOT EXISTS"):
		p.pos += len("NOT EXISTS")
		return func(d any) bool { _, ok := get(d); return !ok }, nil
	}
	var op string
	for _, o := range []string{"!=", "<=", ">=", "=", "<", ">"} {
		if p.accept(o) {
			op = o
			break
		}
	}
	if op == "" {
		return nil, fmt.Errorf("expected an operator after %s", sel)
	}
	p.skip()
	var lit string
	quoted := false
	if strings.HasPrefix(p.src[p.pos:], `"`) {
		end := strings.Index(p.src[p.pos+1:], `"`)
		if end < 0 {
			return nil, fmt.Errorf("unterminated string in JSON filter pattern")
		}
		lit, quoted = p.src[p.pos+1:p.pos+1+end], true
		p.pos += end + 2
	} else {
		end := strings.IndexAny(p.src[p.pos:], " \t\n)&|")
		if end < 0 {
			end = len(p.src) - p.pos
		}
		lit = p.src[p.pos : p.pos+end]
		p.pos += end
	}
	if lit == "" {
		return nil, fmt.Errorf("expected a value after %s %s", sel, op)
	}
	num, numErr := strconv.ParseFloat(lit, 64)
	isNum := numErr == nil && !quoted
	if !isNum && op != "=" && op != "!=" {
		return nil, fmt.Errorf("%s compares numbers only", op)
	}
	return func(d any) bool {
		v, ok := get(d)
		if !ok {
			return false // AWS: a missing field matches neither = nor !=
		}
		if isNum {
			f, isF := v.(float64)
			if !isF {
				return op == "!="
			}
			switch op {
			case "=":
				return f == num
			case "!=":
				return f != num
			case "<":
				return f < num
			case "<=":
				return f <= num
			case ">":
				return f > num
			}
			return f >= num
		}
		var s string
		switch x := v.(type) {
		case string:
			s = x
		case float64:
			s = strconv.FormatFloat(x, 'f', -1, 64)
		case bool:
			s = strconv.FormatBool(x)
		default:
			return op == "!="
		}
		match := s == lit
		if strings.Contains(lit, "*") {
			match, _ = path.Match(lit, s)
		}
		return match == (op == "=")
	}, nil
}

// selectJSON follows a selector ($.a.b[0]) into doc.
func selectJSON(doc any, sel string) (any, bool) {
	cur := doc
	rest := strings.TrimPrefix(sel, "$")
	for rest != "" {
		switch {
		case strings.HasPrefix(rest, "["):
			end := strings.Index(rest, "]")
			i, _ := strconv.Atoi(rest[1:end])
			rest = rest[end+1:]
			arr, ok := cur.([]any)
			if !ok || i >= len(arr) {
				return nil, false
			}
			cur = arr[i]
		case strings.HasPrefix(rest, "."):
			rest = rest[1:]
			end := strings.IndexAny(rest, ".[")
			if end < 0 {
				end = len(rest)
			}
			key := rest[:end]
			rest = rest[end:]
			obj, ok := cur.(map[string]any)
			if !ok {
				return nil, false
			}
			if cur, ok = obj[key]; !ok {
				return nil, false
			}
		default:
			return nil, false
		}
	}
	return cur, true
}
