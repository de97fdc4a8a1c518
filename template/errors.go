package template

import (
	"fmt"
	"strings"

	"gopkg.in/yaml.v3"
)

// Error is a problem with one part of a template: a resource's property, a
// parameter, an output. Its message names them, and the line of the template
// where it is known.
type Error struct {
	Section  string // "Resources", "Parameters", "Conditions", "Outputs", ...
	Name     string // the resource's logical id, the parameter's name, ...
	Property string // dotted path inside it: "Properties.Events.Queue.Properties.BatchSize"
	Line     int    // 0 when unknown
	Msg      string
	Err      error // the underlying error, if any
}

func (e *Error) Error() string {
	var b strings.Builder
	switch e.Section {
	case "Resources":
		fmt.Fprintf(&b, "resource %s", e.Name)
	case "Parameters":
		fmt.Fprintf(&b, "parameter %s", e.Name)
	case "Conditions":
		fmt.Fprintf(&b, "condition %s", e.Name)
	case "Outputs":
		fmt.Fprintf(&b, "output %s", e.Name)
	default:
		b.WriteString(e.Section)
		if e.Name != "" {
			b.WriteString(" " + e.Name)
		}
	}
	if e.Property != "" {
		fmt.Fprintf(&b, ", property %s", e.Property)
	}
	if e.Line > 0 {
		fmt.Fprintf(&b, " (line %d)", e.Line)
	}
	b.WriteString(": ")
	b.WriteString(e.Msg)
	if e.Err != nil {
		if e.Msg != "" {
			b.WriteString(": ")
		}
		b.WriteString(e.Err.Error())
	}
	return b.String()
}

func (e *Error) Unwrap() error { return e.Err }

// lineIndex finds the line of a path of mapping keys in the template's
// source (yaml.v3 reads JSON too).
type lineIndex struct{ root *yaml.Node }

func indexLines(data []byte, _ bool) lineIndex {
	var n yaml.Node
	if err := yaml.Unmarshal(data, &n); err != nil || len(n.Content) == 0 {
		return lineIndex{}
	}
	return lineIndex{root: n.Content[0]}
}

// line returns the line of the deepest key of path that exists (0 if none).
func (l lineIndex) line(path ...string) int {
	n, line := l.root, 0
	for _, key := range path {
		if n == nil || n.Kind != yaml.MappingNode {
			break
		}
		var next *yaml.Node
		for i := 0; i+1 < len(n.Content); i += 2 {
			if n.Content[i].Value == key {
				line, next = n.Content[i].Line, n.Content[i+1]
				break
			}
		}
		if next == nil {
			break
		}
		n = next
	}
	return line
}

// resourceError is an Error about a resource's property (dotted path from
// the resource, "Properties.Handler"), with its line.
func (t *Template) resourceError(id, property, msg string, err error) *Error {
	path := []string{"Resources", id}
	if property != "" {
		path = append(path, strings.Split(property, ".")...)
	}
	return &Error{Section: "Resources", Name: id, Property: property, Line: t.lines.line(path...), Msg: msg, Err: err}
}
