package template

import (
	"encoding/json"
	"fmt"
	"reflect"
	"strconv"
	"strings"
)

// decodeProps decodes resolved properties into one of goformation's
// resource types (out, a pointer), as CloudFormation reads them: numbers
// given as strings (a Ref to a Number parameter) become numbers, numbers
// and booleans in string properties become strings. A property the type
// does not know is left out with a warning; a value of the wrong shape is an
// error naming the property. path prefixes the property names.
func decodeProps(props map[string]any, resType string, out any, path string) (warnings []string, err error) {
	rt := reflect.TypeOf(out).Elem()
	v, err := coerce(props, rt, path, &warnings)
	if err != nil {
		return warnings, err
	}
	doc := map[string]any{"Type": resType, "Properties": v}
	b, err := json.Marshal(doc)
	if err != nil {
		return warnings, errAt(path, "%v", err)
	}
	if err := json.Unmarshal(b, out); err != nil {
		return warnings, errAt(path, "%v", err)
	}
	return warnings, nil
}

// decodeInto is decodeProps for a plain struct (no Type/Properties wrapper).
func decodeInto(v any, out any, path string) (warnings []string, err error) {
	c, err := coerce(v, reflect.TypeOf(out).Elem(), path, &warnings)
	if err != nil {
		return warnings, err
	}
	b, err := json.Marshal(c)
	if err != nil {
		return warnings, errAt(path, "%v", err)
	}
	if err := json.Unmarshal(b, out); err != nil {
		return warnings, errAt(path, "%v", err)
	}
	return warnings, nil
}

var unmarshalerType = reflect.TypeOf((*json.Unmarshaler)(nil)).Elem()

func coerce(v any, t reflect.Type, path string, warnings *[]string) (any, error) {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	if v == nil {
		return nil, nil
	}
	switch t.Kind() {
	case reflect.Interface:
		return v, nil
	case reflect.String:
		switch x := v.(type) {
		case string:
			return x, nil
		case float64, bool:
			return scalarString(x), nil
		}
		return nil, errAt(path, "want a string, got %s", describe(v))
	case reflect.Int, reflect.Int64, reflect.Int32, reflect.Float64:
		switch x := v.(type) {
		case float64:
			return x, nil
		case string:
			f, err := strconv.ParseFloat(strings.TrimSpace(x), 64)
			if err != nil {
				return nil, errAt(path, "want a number, got %q", x)
			}
			return f, nil
		}
		return nil, errAt(path, "want a number, got %s", describe(v))
	case reflect.Bool:
		switch x := v.(type) {
		case bool:
			return x, nil
		case string:
			b, err := strconv.ParseBool(x)
			if err != nil {
				return nil, errAt(path, "want true or false, got %q", x)
			}
			return b, nil
		}
		return nil, errAt(path, "want true or false, got %s", describe(v))
	case reflect.Slice:
		l, ok := v.([]any)
		if !ok {
			return nil, errAt(path, "want a list, got %s", describe(v))
		}
		out := make([]any, len(l))
		for i, it := range l {
			c, err := coerce(it, t.Elem(), join(path, strconv.Itoa(i)), warnings)
			if err != nil {
				return nil, err
			}
			out[i] = c
		}
		return out, nil
	case reflect.Map:
		m, ok := v.(map[string]any)
		if !ok {
			return nil, errAt(path, "want an object, got %s", describe(v))
		}
		out := make(map[string]any, len(m))
		for k, it := range m {
			c, err := coerce(it, t.Elem(), join(path, k), warnings)
			if err != nil {
				return nil, err
			}
			out[k] = c
		}
		return out, nil
	case reflect.Struct:
		if reflect.PointerTo(t).Implements(unmarshalerType) && !hasJSONTags(t) {
			return v, nil // a goformation union (String or S3Location, ...): it reads itself
		}
		m, ok := v.(map[string]any)
		if !ok {
			return nil, errAt(path, "want an object, got %s", describe(v))
		}
		fields := map[string]reflect.StructField{}
		for i := range t.NumField() {
			f := t.Field(i)
			name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
			if name == "-" || !f.IsExported() {
				continue
			}
			if name == "" {
				name = f.Name
			}
			fields[name] = f
		}
		out := make(map[string]any, len(m))
		for _, k := range sortedKeys(m) {
			f, ok := fields[k]
			if !ok {
				*warnings = append(*warnings, fmt.Sprintf("%s: lamb does not know this property; ignored", join(path, k)))
				continue
			}
			c, err := coerce(m[k], f.Type, join(path, k), warnings)
			if err != nil {
				return nil, err
			}
			out[k] = c
		}
		return out, nil
	}
	return v, nil
}

func hasJSONTags(t reflect.Type) bool {
	for i := range t.NumField() {
		if t.Field(i).Tag.Get("json") != "" {
			return true
		}
	}
	return false
}
