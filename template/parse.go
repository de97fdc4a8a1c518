package template

import (
	"encoding/json"
	"fmt"
	"path/filepath"
	"sort"
	"strings"
	"sync"

	"github.com/awslabs/goformation/v7/intrinsics"
)

// Template is a parsed SAM or CloudFormation template, intrinsics still in
// their long form ({"Ref": ...}, {"Fn::Sub": ...}): they are resolved at
// deploy time, when the values they refer to are known.
type Template struct {
	// Dir is the folder CodeUri, ContentUri and Code paths are relative to.
	Dir        string
	Transform  []string
	Parameters map[string]Parameter
	Mappings   map[string]any
	Conditions map[string]any
	Globals    map[string]any
	Resources  map[string]*Resource
	Outputs    map[string]Output

	lines lineIndex
}

// Parameter is one entry of the template's Parameters.
type Parameter struct {
	Type           string
	Default        any
	AllowedValues  []any
	AllowedPattern string
	NoEcho         any
}

// Resource is one entry of the template's Resources.
type Resource struct {
	LogicalID  string
	Type       string
	Condition  string
	DependsOn  []string
	Properties map[string]any
	Metadata   map[string]any
}

// Output is one entry of the template's Outputs.
type Output struct {
	Description any
	Value       any
	Condition   string
	Export      *struct{ Name any }
}

// goformation's YAML reader registers its tag resolvers in a package
// variable on every call: calls are serialised.
var yamlMu sync.Mutex

// ParseFile reads and parses the template at path.
func ParseFile(path string, data []byte) (*Template, error) {
	t, err := Parse(data, strings.HasSuffix(path, ".json"))
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	t.Dir = filepath.Dir(path)
	return t, nil
}

// Parse parses a template, JSON when isJSON, else YAML (with CloudFormation's
// short forms, !Ref, !Sub, ...), with goformation's reader. It checks the
// template's shape; values are checked when they are resolved.
func Parse(data []byte, isJSON bool) (*Template, error) {
	opts := &intrinsics.ProcessorOptions{NoProcess: true}
	var (
		js  []byte
		err error
	)
	if isJSON {
		js, err = intrinsics.ProcessJSON(data, opts)
	} else {
		yamlMu.Lock()
		js, err = intrinsics.ProcessYAML(data, opts)
		yamlMu.Unlock()
	}
	if err != nil {
		return nil, err
	}
	var raw struct {
		Transform  any
		Parameters map[string]json.RawMessage
		Mappings   map[string]any
		Conditions map[string]any
		Globals    map[string]any
		Resources  map[string]json.RawMessage
		Outputs    map[string]json.RawMessage
	}
	if err := json.Unmarshal(js, &raw); err != nil {
		return nil, fmt.Errorf("template: %w", err)
	}
	t := &Template{
		Parameters: map[string]Parameter{},
		Mappings:   raw.Mappings,
		Conditions: raw.Conditions,
		Globals:    raw.Globals,
		Resources:  map[string]*Resource{},
		Outputs:    map[string]Output{},
		lines:      indexLines(data, isJSON),
	}
	switch tr := raw.Transform.(type) {
	case string:
		t.Transform = []string{tr}
	case []any:
		for _, v := range tr {
			if s, ok := v.(string); ok {
				t.Transform = append(t.Transform, s)
			}
		}
	}
	for name, r := range raw.Parameters {
		var p Parameter
		if err := json.Unmarshal(r, &p); err != nil {
			return nil, &Error{Section: "Parameters", Name: name, Msg: "not a parameter: " + err.Error(), Line: t.lines.line("Parameters", name)}
		}
		if p.Type == "" {
			return nil, &Error{Section: "Parameters", Name: name, Property: "Type", Msg: "is required", Line: t.lines.line("Parameters", name)}
		}
		t.Parameters[name] = p
	}
	if len(raw.Resources) == 0 {
		return nil, &Error{Section: "Resources", Msg: "the template has no Resources"}
	}
	for id, r := range raw.Resources {
		var rr struct {
			Type       string
			Condition  string
			DependsOn  any
			Properties map[string]any
			Metadata   map[string]any
		}
		if err := json.Unmarshal(r, &rr); err != nil {
			return nil, &Error{Section: "Resources", Name: id, Msg: "not a resource: " + err.Error(), Line: t.lines.line("Resources", id)}
		}
		if rr.Type == "" {
			return nil, &Error{Section: "Resources", Name: id, Property: "Type", Msg: "is required", Line: t.lines.line("Resources", id)}
		}
		res := &Resource{LogicalID: id, Type: rr.Type, Condition: rr.Condition, Properties: rr.Properties, Metadata: rr.Metadata}
		if res.Properties == nil {
			res.Properties = map[string]any{}
		}
		switch d := rr.DependsOn.(type) {
		case string:
			res.DependsOn = []string{d}
		case []any:
			for _, v := range d {
				if s, ok := v.(string); ok {
					res.DependsOn = append(res.DependsOn, s)
				}
			}
		}
		t.Resources[id] = res
	}
	for name, r := range raw.Outputs {
		var o Output
		if err := json.Unmarshal(r, &o); err != nil {
			return nil, &Error{Section: "Outputs", Name: name, Msg: "not an output: " + err.Error(), Line: t.lines.line("Outputs", name)}
		}
		t.Outputs[name] = o
	}
	return t, nil
}

// IsSAM reports whether the template uses the AWS::Serverless transform.
func (t *Template) IsSAM() bool {
	for _, tr := range t.Transform {
		if strings.HasPrefix(tr, "AWS::Serverless") {
			return true
		}
	}
	return false
}

// sortedKeys returns m's keys in order.
func sortedKeys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}
