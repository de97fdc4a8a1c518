package template

import (
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
)

// Pseudo holds the values of the AWS:: pseudo parameters for one stack.
type Pseudo struct {
	AccountID string
	Region    string
	StackName string
	Partition string // default "aws"
	URLSuffix string // default "amazonaws.com"
}

// StackID is the stack's AWS::StackId: an ARN, stable for a stack name.
func (p Pseudo) StackID() string {
	return fmt.Sprintf("arn:%s:cloudformation:%s:%s:stack/%s/lamb-%s", p.partition(), p.Region, p.AccountID, p.StackName, p.StackName)
}

func (p Pseudo) partition() string {
	if p.Partition == "" {
		return "aws"
	}
	return p.Partition
}

func (p Pseudo) urlSuffix() string {
	if p.URLSuffix == "" {
		return "amazonaws.com"
	}
	return p.URLSuffix
}

// Deployed is what Ref and Fn::GetAtt of one resource give.
type Deployed struct {
	Ref   any            `json:"ref"`
	Attrs map[string]any `json:"attrs,omitempty"`
}

// noValue is AWS::NoValue: a map entry or list element that evaluates to it
// is left out.
type noValueT struct{}

var noValue = noValueT{}

// evalError is an error at a path inside the value being evaluated.
type evalError struct {
	path string
	msg  string
}

func (e *evalError) Error() string { return e.msg }

func errAt(path, format string, args ...any) error {
	return &evalError{path: path, msg: fmt.Sprintf(format, args...)}
}

// Evaluator resolves intrinsics against a template's parameters,
// conditions, mappings, the pseudo parameters, other stacks' exports and
// the resources deployed so far. It is not safe for concurrent use.
type Evaluator struct {
	t       *Template
	pseudo  Pseudo
	params  map[string]any // string, or []any of strings for list types
	imports map[string]string

	conds      map[string]bool
	evaluating map[string]bool

	// Resources holds the resources deployed so far (and the plausible
	// values of skipped ones), by logical id.
	Resources map[string]*Deployed
	// excluded are resources whose Condition is false.
	excluded map[string]bool
}

// NewEvaluator resolves the template's parameters (overrides, then
// defaults, checked against their Type, AllowedValues and AllowedPattern)
// and returns an evaluator. imports are the exports of other stacks.
func NewEvaluator(t *Template, pseudo Pseudo, overrides map[string]string, imports map[string]string) (*Evaluator, error) {
	e := &Evaluator{t: t, pseudo: pseudo, params: map[string]any{}, imports: imports,
		conds: map[string]bool{}, evaluating: map[string]bool{}, Resources: map[string]*Deployed{}, excluded: map[string]bool{}}
	for _, name := range sortedKeys(overrides) {
		if _, ok := t.Parameters[name]; !ok {
			return nil, &Error{Section: "Parameters", Name: name, Msg: "is overridden but the template declares no such parameter"}
		}
	}
	for _, name := range sortedKeys(t.Parameters) {
		p := t.Parameters[name]
		line := t.lines.line("Parameters", name)
		val, ok := overrides[name]
		if !ok {
			if p.Default == nil {
				return nil, &Error{Section: "Parameters", Name: name, Line: line, Msg: "has no Default: give it a value with --parameter-overrides " + name + "=VALUE"}
			}
			val = scalarString(p.Default)
		}
		v, err := checkParameter(p, val)
		if err != nil {
			return nil, &Error{Section: "Parameters", Name: name, Line: line, Msg: err.Error()}
		}
		e.params[name] = v
	}
	for _, name := range sortedKeys(t.Conditions) {
		if _, err := e.Condition(name); err != nil {
			return nil, err
		}
	}
	for _, id := range sortedKeys(t.Resources) {
		r := t.Resources[id]
		if r.Condition == "" {
			continue
		}
		ok, err := e.Condition(r.Condition)
		if err != nil {
			var te *Error
			if errors.As(err, &te) && te.Section == "Conditions" && te.Name == r.Condition && te.Msg == "is not defined" {
				return nil, t.resourceError(id, "Condition", fmt.Sprintf("names condition %s, which the template does not define", r.Condition), nil)
			}
			return nil, err
		}
		if !ok {
			e.excluded[id] = true
		}
	}
	return e, nil
}

// Param returns a resolved parameter value.
func (e *Evaluator) Param(name string) (any, bool) {
	v, ok := e.params[name]
	return v, ok
}

// Excluded reports whether a resource's Condition leaves it out.
func (e *Evaluator) Excluded(id string) bool { return e.excluded[id] }

func checkParameter(p Parameter, val string) (any, error) {
	isList := p.Type == "CommaDelimitedList" || strings.HasPrefix(p.Type, "List<")
	var items []string
	if isList {
		if val != "" {
			for _, s := range strings.Split(val, ",") {
				items = append(items, strings.TrimSpace(s))
			}
		}
	} else {
		items = []string{val}
	}
	for _, it := range items {
		if p.Type == "Number" || p.Type == "List<Number>" {
			if _, err := strconv.ParseFloat(it, 64); err != nil {
				return nil, fmt.Errorf("value %q is not a Number", it)
			}
		}
		if len(p.AllowedValues) > 0 {
			found := false
			for _, a := range p.AllowedValues {
				if scalarString(a) == it {
					found = true
					break
				}
			}
			if !found {
				allowed := make([]string, len(p.AllowedValues))
				for i, a := range p.AllowedValues {
					allowed[i] = scalarString(a)
				}
				return nil, fmt.Errorf("value %q is not one of its AllowedValues [%s]", it, strings.Join(allowed, ", "))
			}
		}
		if p.AllowedPattern != "" {
			re, err := regexp.Compile("^(?:" + p.AllowedPattern + ")$")
			if err != nil {
				return nil, fmt.Errorf("AllowedPattern %q: %w", p.AllowedPattern, err)
			}
			if !re.MatchString(it) {
				return nil, fmt.Errorf("value %q does not match its AllowedPattern %s", it, p.AllowedPattern)
			}
		}
	}
	if isList {
		out := make([]any, len(items))
		for i, s := range items {
			out[i] = s
		}
		return out, nil
	}
	return val, nil
}

// scalarString formats a JSON scalar as CloudFormation does in strings.
func scalarString(v any) string {
	switch x := v.(type) {
	case string:
		return x
	case float64:
		return strconv.FormatFloat(x, 'f', -1, 64)
	case bool:
		return strconv.FormatBool(x)
	case nil:
		return ""
	}
	b, _ := json.Marshal(v)
	return string(b)
}

// Condition evaluates a named condition (once; cycles are errors).
func (e *Evaluator) Condition(name string) (bool, error) {
	if v, ok := e.conds[name]; ok {
		return v, nil
	}
	expr, ok := e.t.Conditions[name]
	if !ok {
		return false, &Error{Section: "Conditions", Name: name, Msg: "is not defined"}
	}
	if e.evaluating[name] {
		return false, &Error{Section: "Conditions", Name: name, Line: e.t.lines.line("Conditions", name), Msg: "refers to itself"}
	}
	e.evaluating[name] = true
	defer delete(e.evaluating, name)
	v, err := e.condExpr(expr, "")
	if err != nil {
		var te *Error
		if errors.As(err, &te) {
			return false, err
		}
		var ee *evalError
		prop := ""
		if errors.As(err, &ee) {
			prop = ee.path
		}
		return false, &Error{Section: "Conditions", Name: name, Property: prop, Line: e.t.lines.line("Conditions", name), Msg: err.Error()}
	}
	e.conds[name] = v
	return v, nil
}

// condExpr evaluates a condition expression: Fn::Equals, And, Or, Not, or
// {"Condition": name}.
func (e *Evaluator) condExpr(expr any, path string) (bool, error) {
	m, ok := expr.(map[string]any)
	if !ok || len(m) != 1 {
		if b, ok := expr.(bool); ok {
			return b, nil
		}
		if s, ok := expr.(string); ok {
			// goformation's YAML reader knows no !Condition tag: it leaves
			// the bare name, which is nothing else here.
			if _, isCond := e.t.Conditions[s]; isCond {
				return e.Condition(s)
			}
			if s == "true" || s == "false" {
				return s == "true", nil
			}
		}
		return false, errAt(path, "want a condition function (Fn::Equals, Fn::And, Fn::Or, Fn::Not, Condition), got %s", describe(expr))
	}
	for fn, arg := range m {
		p := join(path, fn)
		switch fn {
		case "Condition":
			name, ok := arg.(string)
			if !ok {
				return false, errAt(p, "want a condition name")
			}
			return e.Condition(name)
		case "Fn::Equals":
			args, err := e.args(arg, p, 2, 2)
			if err != nil {
				return false, err
			}
			a, err := e.Eval(args[0], join(p, "0"))
			if err != nil {
				return false, err
			}
			b, err := e.Eval(args[1], join(p, "1"))
			if err != nil {
				return false, err
			}
			return scalarString(a) == scalarString(b), nil
		case "Fn::And", "Fn::Or":
			args, ok := arg.([]any)
			if !ok || len(args) < 2 || len(args) > 10 {
				return false, errAt(p, "%s wants a list of 2 to 10 conditions", fn)
			}
			for i, a := range args {
				v, err := e.condExpr(a, join(p, strconv.Itoa(i)))
				if err != nil {
					return false, err
				}
				if fn == "Fn::And" && !v {
					return false, nil
				}
				if fn == "Fn::Or" && v {
					return true, nil
				}
			}
			return fn == "Fn::And", nil
		case "Fn::Not":
			args, err := e.args(arg, p, 1, 1)
			if err != nil {
				return false, err
			}
			v, err := e.condExpr(args[0], join(p, "0"))
			return !v, err
		}
		return false, errAt(p, "%s is not a condition function", fn)
	}
	return false, errAt(path, "want a condition function")
}

func join(path, key string) string {
	if path == "" {
		return key
	}
	return path + "." + key
}

func describe(v any) string {
	switch v.(type) {
	case map[string]any:
		return "an object"
	case []any:
		return "a list"
	case nil:
		return "null"
	case noValueT:
		return "AWS::NoValue"
	}
	return fmt.Sprintf("%q", scalarString(v))
}

// args checks that an intrinsic's argument is a list of min to max items.
func (e *Evaluator) args(arg any, path string, min, max int) ([]any, error) {
	l, ok := arg.([]any)
	if !ok || len(l) < min || len(l) > max {
		if min == max {
			return nil, errAt(path, "wants a list of %d items", min)
		}
		return nil, errAt(path, "wants a list of %d to %d items", min, max)
	}
	return l, nil
}

// leadString checks that an intrinsic's argument is a list of two items and
// evaluates the first as a string, as Fn::Join, Fn::Select and Fn::Split
// all begin; it returns the second item unevaluated.
func (e *Evaluator) leadString(arg any, path string) (string, any, error) {
	args, err := e.args(arg, path, 2, 2)
	if err != nil {
		return "", nil, err
	}
	s, err := e.evalString(args[0], join(path, "0"))
	if err != nil {
		return "", nil, err
	}
	return s, args[1], nil
}

// eachChild calls f with each value of a template object or item of a list,
// for the walks that look for intrinsics at any depth; order is not kept.
func eachChild(v any, f func(any)) {
	switch x := v.(type) {
	case map[string]any:
		for _, it := range x {
			f(it)
		}
	case []any:
		for _, it := range x {
			f(it)
		}
	}
}

// intrinsic returns the function name and argument of an intrinsic object.
func intrinsic(v any) (string, any, bool) {
	m, ok := v.(map[string]any)
	if !ok || len(m) != 1 {
		return "", nil, false
	}
	for k, a := range m {
		if k == "Ref" || strings.HasPrefix(k, "Fn::") {
			return k, a, true
		}
	}
	return "", nil, false
}

// Eval resolves every intrinsic in v. path names v in errors.
func (e *Evaluator) Eval(v any, path string) (any, error) {
	if fn, arg, ok := intrinsic(v); ok {
		return e.call(fn, arg, join(path, fn))
	}
	switch x := v.(type) {
	case map[string]any:
		out := make(map[string]any, len(x))
		for _, k := range sortedKeys(x) {
			r, err := e.Eval(x[k], join(path, k))
			if err != nil {
				return nil, err
			}
			if r != noValue {
				out[k] = r
			}
		}
		return out, nil
	case []any:
		out := make([]any, 0, len(x))
		for i, it := range x {
			r, err := e.Eval(it, join(path, strconv.Itoa(i)))
			if err != nil {
				return nil, err
			}
			if r != noValue {
				out = append(out, r)
			}
		}
		return out, nil
	}
	return v, nil
}

// evalString evaluates v and wants a string (numbers and bools are
// formatted, as CloudFormation does).
func (e *Evaluator) evalString(v any, path string) (string, error) {
	r, err := e.Eval(v, path)
	if err != nil {
		return "", err
	}
	switch r.(type) {
	case string, float64, bool:
		return scalarString(r), nil
	}
	return "", errAt(path, "want a string, got %s", describe(r))
}

func (e *Evaluator) evalList(v any, path string) ([]any, error) {
	r, err := e.Eval(v, path)
	if err != nil {
		return nil, err
	}
	l, ok := r.([]any)
	if !ok {
		return nil, errAt(path, "want a list, got %s", describe(r))
	}
	return l, nil
}

func (e *Evaluator) call(fn string, arg any, path string) (any, error) {
	switch fn {
	case "Ref":
		name, err := e.evalString(arg, path)
		if err != nil {
			return nil, err
		}
		return e.ref(name, path)
	case "Fn::GetAtt":
		var id, attr string
		switch a := arg.(type) {
		case string:
			var ok bool
			id, attr, ok = strings.Cut(a, ".")
			if !ok {
				return nil, errAt(path, "wants LogicalId.Attribute, got %q", a)
			}
		case []any:
			if len(a) != 2 {
				return nil, errAt(path, "wants [LogicalId, Attribute]")
			}
			var err error
			if id, err = e.evalString(a[0], join(path, "0")); err != nil {
				return nil, err
			}
			if attr, err = e.evalString(a[1], join(path, "1")); err != nil {
				return nil, err
			}
		default:
			return nil, errAt(path, "wants LogicalId.Attribute or [LogicalId, Attribute]")
		}
		return e.getAtt(id, attr, path)
	case "Fn::Sub":
		return e.sub(arg, path)
	case "Fn::Join":
		delim, rest, err := e.leadString(arg, path)
		if err != nil {
			return nil, err
		}
		items, err := e.evalList(rest, join(path, "1"))
		if err != nil {
			return nil, err
		}
		parts := make([]string, len(items))
		for i, it := range items {
			switch it.(type) {
			case string, float64, bool:
				parts[i] = scalarString(it)
			default:
				return nil, errAt(join(path, "1"), "item %d is %s, not a string", i, describe(it))
			}
		}
		return strings.Join(parts, delim), nil
	case "Fn::Select":
		is, rest, err := e.leadString(arg, path)
		if err != nil {
			return nil, err
		}
		i, err := strconv.Atoi(is)
		if err != nil {
			return nil, errAt(join(path, "0"), "index %q is not a number", is)
		}
		items, err := e.evalList(rest, join(path, "1"))
		if err != nil {
			return nil, err
		}
		if i < 0 || i >= len(items) {
			return nil, errAt(path, "index %d is out of range: the list has %d items", i, len(items))
		}
		return items[i], nil
	case "Fn::Split":
		delim, rest, err := e.leadString(arg, path)
		if err != nil {
			return nil, err
		}
		s, err := e.evalString(rest, join(path, "1"))
		if err != nil {
			return nil, err
		}
		if delim == "" {
			return nil, errAt(path, "the delimiter is empty")
		}
		var out []any
		for _, p := range strings.Split(s, delim) {
			out = append(out, p)
		}
		return out, nil
	case "Fn::FindInMap":
		args, err := e.args(arg, path, 3, 4)
		if err != nil {
			return nil, err
		}
		keys := make([]string, 3)
		for i := range keys {
			if keys[i], err = e.evalString(args[i], join(path, strconv.Itoa(i))); err != nil {
				return nil, err
			}
		}
		var cur any = e.t.Mappings
		for i, k := range keys {
			m, _ := cur.(map[string]any)
			next, ok := m[k]
			if !ok {
				if len(args) == 4 {
					if d, ok := args[3].(map[string]any); ok {
						if dv, ok := d["DefaultValue"]; ok {
							return e.Eval(dv, join(path, "3"))
						}
					}
				}
				what := []string{"mapping", "top-level key", "second-level key"}[i]
				return nil, errAt(path, "%s %q is not in Mappings%s", what, k, mapPath(keys[:i]))
			}
			cur = next
		}
		return cur, nil
	case "Fn::If":
		args, err := e.args(arg, path, 3, 3)
		if err != nil {
			return nil, err
		}
		name, ok := args[0].(string)
		if !ok {
			return nil, errAt(join(path, "0"), "wants a condition name")
		}
		v, err := e.Condition(name)
		if err != nil {
			var te *Error
			if errors.As(err, &te) && te.Msg == "is not defined" {
				return nil, errAt(join(path, "0"), "condition %s is not defined", name)
			}
			return nil, err
		}
		if v {
			return e.Eval(args[1], join(path, "1"))
		}
		return e.Eval(args[2], join(path, "2"))
	case "Fn::Equals", "Fn::And", "Fn::Or", "Fn::Not":
		return e.condExpr(map[string]any{fn: arg}, strings.TrimSuffix(strings.TrimSuffix(path, fn), "."))
	case "Fn::ImportValue":
		name, err := e.evalString(arg, path)
		if err != nil {
			return nil, err
		}
		v, ok := e.imports[name]
		if !ok {
			return nil, errAt(path, "no stack deployed on this lamb exports %q", name)
		}
		return v, nil
	case "Fn::Base64":
		s, err := e.evalString(arg, path)
		if err != nil {
			return nil, err
		}
		return base64.StdEncoding.EncodeToString([]byte(s)), nil
	case "Fn::GetAZs":
		r := e.pseudo.Region
		return []any{r + "a", r + "b", r + "c"}, nil
	case "Fn::Length":
		l, err := e.evalList(arg, path)
		if err != nil {
			return nil, err
		}
		return float64(len(l)), nil
	case "Fn::ToJsonString":
		v, err := e.Eval(arg, path)
		if err != nil {
			return nil, err
		}
		b, err := json.Marshal(v)
		if err != nil {
			return nil, errAt(path, "%v", err)
		}
		return string(b), nil
	}
	return nil, errAt(path, "lamb does not support the intrinsic function %s", fn)
}

func mapPath(keys []string) string {
	var b strings.Builder
	for _, k := range keys {
		fmt.Fprintf(&b, ".%s", k)
	}
	return b.String()
}

func (e *Evaluator) ref(name, path string) (any, error) {
	if v, ok := e.params[name]; ok {
		return v, nil
	}
	p := e.pseudo
	switch name {
	case "AWS::AccountId":
		return p.AccountID, nil
	case "AWS::Region":
		return p.Region, nil
	case "AWS::StackName":
		return p.StackName, nil
	case "AWS::StackId":
		return p.StackID(), nil
	case "AWS::Partition":
		return p.partition(), nil
	case "AWS::URLSuffix":
		return p.urlSuffix(), nil
	case "AWS::NoValue":
		return noValue, nil
	case "AWS::NotificationARNs":
		return []any{}, nil
	}
	d, err := e.resource(name, path)
	if err != nil {
		return nil, err
	}
	return d.Ref, nil
}

func (e *Evaluator) resource(id, path string) (*Deployed, error) {
	if d, ok := e.Resources[id]; ok {
		return d, nil
	}
	if e.excluded[id] {
		return nil, errAt(path, "refers to %s, which its Condition leaves out of this deploy", id)
	}
	if _, ok := e.t.Resources[id]; ok {
		return nil, errAt(path, "refers to %s, which is not deployed yet (a dependency cycle?)", id)
	}
	return nil, errAt(path, "refers to %s, which is neither a parameter nor a resource of the template", id)
}

func (e *Evaluator) getAtt(id, attr, path string) (any, error) {
	d, err := e.resource(id, path)
	if err != nil {
		return nil, err
	}
	v, ok := d.Attrs[attr]
	if !ok {
		known := sortedKeys(d.Attrs)
		return nil, errAt(path, "%s has no attribute %s (it has %s)", id, attr, strings.Join(known, ", "))
	}
	return v, nil
}

var subVar = regexp.MustCompile(`\$\{([^}]*)\}`)

func (e *Evaluator) sub(arg any, path string) (any, error) {
	var (
		s    string
		vars = map[string]any{}
	)
	switch a := arg.(type) {
	case string:
		s = a
	case []any:
		if len(a) != 2 {
			return nil, errAt(path, "wants a string or [string, {variables}]")
		}
		str, ok := a[0].(string)
		if !ok {
			return nil, errAt(join(path, "0"), "wants a string")
		}
		m, ok := a[1].(map[string]any)
		if !ok {
			return nil, errAt(join(path, "1"), "wants an object of variables")
		}
		s = str
		for k, v := range m {
			r, err := e.Eval(v, join(path, "1."+k))
			if err != nil {
				return nil, err
			}
			vars[k] = r
		}
	default:
		return nil, errAt(path, "wants a string or [string, {variables}]")
	}
	var firstErr error
	out := subVar.ReplaceAllStringFunc(s, func(m string) string {
		name := m[2 : len(m)-1]
		if strings.HasPrefix(name, "!") {
			return "${" + name[1:] + "}"
		}
		if firstErr != nil {
			return ""
		}
		name = strings.TrimSpace(name)
		var (
			v   any
			err error
		)
		if vv, ok := vars[name]; ok {
			v = vv
		} else if id, attr, ok := strings.Cut(name, "."); ok && !strings.HasPrefix(name, "AWS::") {
			v, err = e.getAtt(id, attr, path)
		} else {
			v, err = e.ref(name, path)
		}
		if err != nil {
			firstErr = err
			return ""
		}
		switch v.(type) {
		case string, float64, bool:
			return scalarString(v)
		}
		firstErr = errAt(path, "${%s} is %s, not a string", name, describe(v))
		return ""
	})
	if firstErr != nil {
		return nil, firstErr
	}
	return out, nil
}

// References returns the logical ids of the template's resources that v
// refers to (Ref, Fn::GetAtt, Fn::Sub), sorted.
func (t *Template) References(v any) []string {
	seen := map[string]bool{}
	var walk func(v any)
	walk = func(v any) {
		if fn, arg, ok := intrinsic(v); ok {
			switch fn {
			case "Ref":
				if s, ok := arg.(string); ok {
					seen[s] = true
				}
			case "Fn::GetAtt":
				switch a := arg.(type) {
				case string:
					id, _, _ := strings.Cut(a, ".")
					seen[id] = true
				case []any:
					if len(a) > 0 {
						if s, ok := a[0].(string); ok {
							seen[s] = true
						}
					}
				}
			case "Fn::Sub":
				s, _ := arg.(string)
				var vars map[string]any
				if a, ok := arg.([]any); ok && len(a) == 2 {
					s, _ = a[0].(string)
					vars, _ = a[1].(map[string]any)
					walk(a[1])
				}
				for _, m := range subVar.FindAllStringSubmatch(s, -1) {
					name := strings.TrimSpace(m[1])
					if strings.HasPrefix(name, "!") {
						continue
					}
					if _, ok := vars[name]; ok {
						continue
					}
					id, _, _ := strings.Cut(name, ".")
					seen[id] = true
				}
				return
			}
			walk(arg)
			return
		}
		eachChild(v, walk)
	}
	walk(v)
	var out []string
	for id := range seen {
		if o := t.owner(id); o != "" && !slices.Contains(out, o) {
			out = append(out, o)
		}
	}
	sort.Strings(out)
	return out
}

// owner returns the template resource a name refers to: the resource of that
// logical id, or the SAM function that generates it (MyFunction.Alias,
// MyFunctionUrl, MyFunctionRole, MyFunctionMyEvent); "" for none.
func (t *Template) owner(name string) string {
	if _, ok := t.Resources[name]; ok {
		return name
	}
	if id, _, ok := strings.Cut(name, "."); ok {
		if _, ok := t.Resources[id]; ok {
			return id
		}
	}
	best := ""
	for id, r := range t.Resources {
		if r.Type == "AWS::Serverless::Function" && strings.HasPrefix(name, id) && len(id) > len(best) {
			best = id
		}
	}
	return best
}

// Order returns the resources' logical ids so that each comes after the
// resources it refers to or DependsOn; an error names a cycle.
func (t *Template) Order() ([]string, error) {
	deps := map[string][]string{}
	for id, r := range t.Resources {
		d := t.References(r.Properties)
		for _, x := range r.DependsOn {
			if _, ok := t.Resources[x]; !ok {
				return nil, t.resourceError(id, "DependsOn", fmt.Sprintf("names %s, which is not a resource of the template", x), nil)
			}
			d = append(d, x)
		}
		deps[id] = d
	}
	var (
		out   []string
		state = map[string]int{} // 1 visiting, 2 done
		visit func(id string, chain []string) error
	)
	visit = func(id string, chain []string) error {
		switch state[id] {
		case 2:
			return nil
		case 1:
			return t.resourceError(id, "", "dependency cycle: "+strings.Join(append(chain, id), " -> "), nil)
		}
		state[id] = 1
		d := append([]string(nil), deps[id]...)
		sort.Strings(d)
		for _, x := range d {
			if err := visit(x, append(chain, id)); err != nil {
				return err
			}
		}
		state[id] = 2
		out = append(out, id)
		return nil
	}
	for _, id := range sortedKeys(t.Resources) {
		if err := visit(id, nil); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// EvalResource resolves a resource's Properties. Errors name the resource
// and the property.
func (e *Evaluator) EvalResource(r *Resource, props map[string]any) (map[string]any, error) {
	v, err := e.Eval(props, "Properties")
	if err != nil {
		return nil, e.asResourceError(r.LogicalID, err)
	}
	return v.(map[string]any), nil
}

func (e *Evaluator) asResourceError(id string, err error) error {
	var te *Error
	if errors.As(err, &te) {
		return err
	}
	var ee *evalError
	if errors.As(err, &ee) {
		return e.t.resourceError(id, ee.path, ee.msg, nil)
	}
	return e.t.resourceError(id, e.t.apiProperty(id, err), "", err)
}

// apiField is how the Lambda API names the field it refuses: "Value x at
// 'runtime' failed to satisfy constraint".
var apiField = regexp.MustCompile(`at '([A-Za-z0-9.]+)' failed`)

// apiProperty returns the property of resource id that an API error is
// about, when the error names a field the resource sets ("" otherwise).
func (t *Template) apiProperty(id string, err error) string {
	m := apiField.FindStringSubmatch(err.Error())
	r := t.Resources[id]
	if m == nil || r == nil {
		return ""
	}
	field := m[1]
	if i := strings.IndexByte(field, '.'); i >= 0 {
		field = field[:i]
	}
	for k := range r.Properties {
		if strings.EqualFold(k, field) {
			return "Properties." + k
		}
	}
	return ""
}

// Outputs evaluates the template's Outputs whose Condition holds, and
// returns them with the exports (Export.Name → value).
func (e *Evaluator) Outputs() (outputs, exports map[string]string, err error) {
	outputs, exports = map[string]string{}, map[string]string{}
	for _, name := range sortedKeys(e.t.Outputs) {
		o := e.t.Outputs[name]
		if o.Condition != "" {
			ok, err := e.Condition(o.Condition)
			if err != nil {
				return nil, nil, err
			}
			if !ok {
				continue
			}
		}
		wrap := func(err error) error {
			var ee *evalError
			prop := ""
			if errors.As(err, &ee) {
				prop = ee.path
			}
			return &Error{Section: "Outputs", Name: name, Property: prop, Line: e.t.lines.line("Outputs", name), Msg: err.Error()}
		}
		v, err := e.Eval(o.Value, "Value")
		if err != nil {
			return nil, nil, wrap(err)
		}
		switch x := v.(type) {
		case string, float64, bool:
			outputs[name] = scalarString(x)
		case []any:
			parts := []string{}
			for _, it := range x {
				parts = append(parts, scalarString(it))
			}
			outputs[name] = strings.Join(parts, ",")
		default:
			return nil, nil, wrap(errAt("Value", "want a string, got %s", describe(v)))
		}
		if o.Export != nil {
			n, err := e.evalString(o.Export.Name, "Export.Name")
			if err != nil {
				return nil, nil, wrap(err)
			}
			exports[n] = outputs[name]
		}
	}
	return outputs, exports, nil
}
