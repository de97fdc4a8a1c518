package template

import (
	"errors"
	"reflect"
	"strings"
	"testing"
)

const evalTemplate = `
Parameters:
  Stage:
    Type: String
    Default: dev
    AllowedValues: [dev, prod]
  Size:
    Type: Number
    Default: 128
  Zones:
    Type: CommaDelimitedList
    Default: "a, b,c"
Mappings:
  Env:
    dev: {Name: development}
    prod: {Name: production}
Conditions:
  IsProd: !Equals [!Ref Stage, prod]
  NotProd: !Not [!Condition IsProd]
  Both: !And [!Condition NotProd, !Equals [!Ref Size, 128]]
  Either: !Or [!Condition IsProd, !Equals ["x", "y"]]
Resources:
  Fn:
    Type: AWS::Lambda::Function
    Properties: {}
  Queue:
    Type: AWS::SQS::Queue
  OnlyProd:
    Type: AWS::SNS::Topic
    Condition: IsProd
`

func newTestEvaluator(t *testing.T, overrides map[string]string) *Evaluator {
	t.Helper()
	tmpl, err := Parse([]byte(evalTemplate), false)
	if err != nil {
		t.Fatal(err)
	}
	ev, err := NewEvaluator(tmpl, Pseudo{AccountID: "123456789012", Region: "eu-west-1", StackName: "app"}, overrides,
		map[string]string{"shared-url": "https://example.test"})
	if err != nil {
		t.Fatal(err)
	}
	ev.Resources["Fn"] = &Deployed{Ref: "app-Fn", Attrs: map[string]any{"Arn": "arn:aws:lambda:eu-west-1:123456789012:function:app-Fn"}}
	ev.Resources["Queue"] = plausible(ev.pseudo, "AWS::SQS::Queue", "Queue", "")
	return ev
}

// yamlValue parses one YAML value with the template's short forms.
func yamlValue(t *testing.T, src string) any {
	t.Helper()
	tmpl, err := Parse([]byte("Resources:\n  X:\n    Type: T\n    Properties:\n      V: "+src+"\n"), false)
	if err != nil {
		t.Fatalf("parse %q: %v", src, err)
	}
	return tmpl.Resources["X"].Properties["V"]
}

func TestEval(t *testing.T) {
	ev := newTestEvaluator(t, nil)
	tests := []struct {
		in   string
		want any
	}{
		{`!Ref Stage`, "dev"},
		{`!Ref Size`, "128"},
		{`!Ref Zones`, []any{"a", "b", "c"}},
		{`!Ref AWS::Region`, "eu-west-1"},
		{`!Ref AWS::AccountId`, "123456789012"},
		{`!Ref AWS::StackName`, "app"},
		{`!Ref AWS::Partition`, "aws"},
		{`!Ref AWS::URLSuffix`, "amazonaws.com"},
		{`!Ref AWS::StackId`, "arn:aws:cloudformation:eu-west-1:123456789012:stack/app/lamb-app"},
		{`!Ref Fn`, "app-Fn"},
		{`!Ref Queue`, "https://sqs.eu-west-1.amazonaws.com/123456789012/app-Queue"},
		{`!GetAtt Fn.Arn`, "arn:aws:lambda:eu-west-1:123456789012:function:app-Fn"},
		{`{"Fn::GetAtt": [Queue, Arn]}`, "arn:aws:sqs:eu-west-1:123456789012:app-Queue"},
		{`!Sub "${AWS::StackName}-${Stage}-${Fn.Arn}"`, "app-dev-arn:aws:lambda:eu-west-1:123456789012:function:app-Fn"},
		{`!Sub ["${A}/${Stage}/${!Literal}", {A: !Ref Size}]`, "128/dev/${Literal}"},
		{`!Join [",", [a, !Ref Stage, 3]]`, "a,dev,3"},
		{`!Join ["", !Ref Zones]`, "abc"},
		{`!Select [1, !Ref Zones]`, "b"},
		{`!Select ["2", [x, y, z]]`, "z"},
		{`!Split ["|", "a|b||c"]`, []any{"a", "b", "", "c"}},
		{`!FindInMap [Env, !Ref Stage, Name]`, "development"},
		{`{"Fn::FindInMap": [Env, test, Name, {DefaultValue: fallback}]}`, "fallback"},
		{`!If [IsProd, big, small]`, "small"},
		{`!If [NotProd, yes, no]`, "yes"},
		{`!If [Both, yes, no]`, "yes"},
		{`!If [Either, yes, no]`, "no"},
		{`[a, !If [IsProd, b, !Ref AWS::NoValue], c]`, []any{"a", "c"}},
		{`{Keep: 1, Drop: !Ref AWS::NoValue}`, map[string]any{"Keep": float64(1)}},
		{`!ImportValue shared-url`, "https://example.test"},
		{`!Base64 hi`, "aGk="},
		{`!GetAZs ""`, []any{"eu-west-1a", "eu-west-1b", "eu-west-1c"}},
		{`!Select [0, !GetAZs ""]`, "eu-west-1a"},
		{`{"Fn::Length": [a, b]}`, float64(2)},
		{`{"Fn::ToJsonString": {a: 1}}`, `{"a":1}`},
		{`plain`, "plain"},
	}
	for _, tc := range tests {
		got, err := ev.Eval(yamlValue(t, tc.in), "V")
		if err != nil {
			t.Errorf("%s: %v", tc.in, err)
			continue
		}
		if !reflect.DeepEqual(got, tc.want) {
			t.Errorf("%s = %#v, want %#v", tc.in, got, tc.want)
		}
	}
}

func TestEvalErrors(t *testing.T) {
	ev := newTestEvaluator(t, nil)
	tests := []struct {
		in, path, msg string
	}{
		{`!Ref Nope`, "V.Ref", "refers to Nope, which is neither a parameter nor a resource"},
		{`!Ref OnlyProd`, "V.Ref", "OnlyProd, which its Condition leaves out"},
		{`!GetAtt Fn.Nope`, "V.Fn::GetAtt", "Fn has no attribute Nope (it has Arn)"},
		{`!GetAtt Fn`, "V.Fn::GetAtt", "wants LogicalId.Attribute"},
		{`!Sub "${Nope}"`, "V.Fn::Sub", "refers to Nope"},
		{`!Select [5, [a]]`, "V.Fn::Select", "index 5 is out of range"},
		{`!Select [x, [a]]`, "V.Fn::Select.0", `index "x" is not a number`},
		{`!FindInMap [Env, test, Name]`, "V.Fn::FindInMap", `top-level key "test" is not in Mappings.Env`},
		{`!FindInMap [Nope, dev, Name]`, "V.Fn::FindInMap", `mapping "Nope" is not in Mappings`},
		{`!If [Unknown, a, b]`, "V.Fn::If.0", "condition Unknown is not defined"},
		{`!ImportValue nobody`, "V.Fn::ImportValue", `no stack deployed on this lamb exports "nobody"`},
		{`!Join [",", notalist]`, "V.Fn::Join.1", "want a list"},
		{`!Join [",", [{a: b}]]`, "V.Fn::Join.1", "item 0 is an object"},
		{`{"Fn::Cidr": [a, 1, 2]}`, "V.Fn::Cidr", "does not support the intrinsic function Fn::Cidr"},
		{`{Deep: [ok, !Ref Missing]}`, "V.Deep.1.Ref", "refers to Missing"},
	}
	for _, tc := range tests {
		_, err := ev.Eval(yamlValue(t, tc.in), "V")
		var ee *evalError
		if !errors.As(err, &ee) {
			t.Errorf("%s: error %v, want an evalError", tc.in, err)
			continue
		}
		if ee.path != tc.path || !strings.Contains(ee.msg, tc.msg) {
			t.Errorf("%s: error at %q: %q, want at %q containing %q", tc.in, ee.path, ee.msg, tc.path, tc.msg)
		}
	}
}

func TestParameters(t *testing.T) {
	tmpl, err := Parse([]byte(evalTemplate), false)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		overrides map[string]string
		want      string // error text; "" for none
	}{
		{map[string]string{"Stage": "prod"}, ""},
		{map[string]string{"Stage": "test"}, `parameter Stage (line 3): value "test" is not one of its AllowedValues [dev, prod]`},
		{map[string]string{"Size": "big"}, `parameter Size (line 7): value "big" is not a Number`},
		{map[string]string{"Other": "x"}, "parameter Other: is overridden but the template declares no such parameter"},
	}
	for _, tc := range tests {
		_, err := NewEvaluator(tmpl, Pseudo{StackName: "s"}, tc.overrides, nil)
		switch {
		case tc.want == "" && err != nil:
			t.Errorf("%v: %v", tc.overrides, err)
		case tc.want != "" && (err == nil || err.Error() != tc.want):
			t.Errorf("%v: error %v, want %q", tc.overrides, err, tc.want)
		}
	}
	ev, err := NewEvaluator(tmpl, Pseudo{StackName: "s"}, map[string]string{"Stage": "prod"}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if ev.Excluded("OnlyProd") {
		t.Error("OnlyProd is excluded with Stage=prod")
	}
	noDefault, err := Parse([]byte("Parameters:\n  Key:\n    Type: String\nResources:\n  X:\n    Type: T\n"), false)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := NewEvaluator(noDefault, Pseudo{}, nil, nil); err == nil || !strings.Contains(err.Error(), "parameter Key (line 2): has no Default") {
		t.Errorf("a parameter without a default or override: %v", err)
	}
	badCond, err := Parse([]byte("Conditions:\n  C: !Equals [a]\nResources:\n  X:\n    Type: T\n    Condition: Missing\n"), false)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := NewEvaluator(badCond, Pseudo{}, nil, nil); err == nil || !strings.Contains(err.Error(), "condition C, property Fn::Equals (line 2): wants a list of 2 items") {
		t.Errorf("a malformed condition: %v", err)
	}
}

func TestEvalResourceNamesResourceAndProperty(t *testing.T) {
	src := "Resources:\n  Fn:\n    Type: AWS::Lambda::Function\n    Properties:\n      Environment:\n        Variables:\n          A: !Ref Nope\n"
	tmpl, err := Parse([]byte(src), false)
	if err != nil {
		t.Fatal(err)
	}
	ev, err := NewEvaluator(tmpl, Pseudo{}, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	_, err = ev.EvalResource(tmpl.Resources["Fn"], tmpl.Resources["Fn"].Properties)
	want := "resource Fn, property Properties.Environment.Variables.A.Ref (line 7): refers to Nope, which is neither a parameter nor a resource of the template"
	if err == nil || err.Error() != want {
		t.Errorf("error %v\nwant  %s", err, want)
	}
}

func TestOrder(t *testing.T) {
	tests := []struct {
		resources string
		want      []string
		err       string
	}{
		{"  A: {Type: T, Properties: {X: !Ref B}}\n  B: {Type: T, Properties: {Y: !Sub '${C.Arn}'}}\n  C: {Type: T}\n", []string{"C", "B", "A"}, ""},
		{"  A: {Type: T, DependsOn: B}\n  B: {Type: T}\n", []string{"B", "A"}, ""},
		{"  A: {Type: T, Properties: {X: !GetAtt FnUrl.FunctionUrl}}\n  Fn: {Type: AWS::Serverless::Function}\n", []string{"Fn", "A"}, ""},
		{"  A: {Type: T, Properties: {X: !Ref Fn.Alias}}\n  Fn: {Type: AWS::Serverless::Function}\n", []string{"Fn", "A"}, ""},
		{"  A: {Type: T, Properties: {X: !Ref B}}\n  B: {Type: T, Properties: {X: !Ref A}}\n", nil, "resource A (line 2): dependency cycle: A -> B -> A"},
		{"  A: {Type: T, DependsOn: [Nope]}\n", nil, "resource A, property DependsOn (line 2): names Nope, which is not a resource of the template"},
	}
	for _, tc := range tests {
		tmpl, err := Parse([]byte("Resources:\n"+tc.resources), false)
		if err != nil {
			t.Fatal(err)
		}
		got, err := tmpl.Order()
		if tc.err != "" {
			if err == nil || err.Error() != tc.err {
				t.Errorf("%s: error %v, want %q", tc.resources, err, tc.err)
			}
			continue
		}
		if err != nil || !reflect.DeepEqual(got, tc.want) {
			t.Errorf("%s: Order = %v, %v; want %v", tc.resources, got, err, tc.want)
		}
	}
}

func TestMergeGlobals(t *testing.T) {
	g := map[string]any{"Timeout": 10.0, "Layers": []any{"g"}, "Environment": map[string]any{"Variables": map[string]any{"A": "g", "B": "g"}}, "Runtime": "python3.12"}
	p := map[string]any{"Timeout": 3.0, "Layers": []any{"p"}, "Environment": map[string]any{"Variables": map[string]any{"B": "p"}}}
	want := map[string]any{"Timeout": 3.0, "Layers": []any{"g", "p"}, "Environment": map[string]any{"Variables": map[string]any{"A": "g", "B": "p"}}, "Runtime": "python3.12"}
	if got := mergeGlobals(g, p); !reflect.DeepEqual(got, want) {
		t.Errorf("mergeGlobals = %v, want %v", got, want)
	}
}

func TestDecodeProps(t *testing.T) {
	type target struct {
		Name    *string           `json:"Name,omitempty"`
		Size    *int              `json:"Size,omitempty"`
		On      *bool             `json:"On,omitempty"`
		Vars    map[string]string `json:"Vars,omitempty"`
		Entries []string          `json:"Entries,omitempty"`
	}
	tests := []struct {
		in    map[string]any
		want  target
		warns []string
		err   string
	}{
		{map[string]any{"Name": 12.0, "Size": "256", "On": "true", "Vars": map[string]any{"N": 1.0}, "Entries": []any{true}},
			target{Name: ptr("12"), Size: ptr(256), On: ptr(true), Vars: map[string]string{"N": "1"}, Entries: []string{"true"}}, nil, ""},
		{map[string]any{"Nmae": "x"}, target{}, []string{"Properties.Nmae: lamb does not know this property; ignored"}, ""},
		{map[string]any{"Size": "lots"}, target{}, nil, `want a number, got "lots"`},
		{map[string]any{"Entries": "one"}, target{}, nil, "want a list"},
		{map[string]any{"Vars": map[string]any{"K": map[string]any{}}}, target{}, nil, "want a string, got an object"},
	}
	for _, tc := range tests {
		var got target
		ws, err := decodeInto(tc.in, &got, "Properties")
		if tc.err != "" {
			if err == nil || !strings.Contains(err.Error(), tc.err) {
				t.Errorf("%v: error %v, want %q", tc.in, err, tc.err)
			}
			continue
		}
		if err != nil || !reflect.DeepEqual(got, tc.want) || !reflect.DeepEqual(ws, tc.warns) {
			t.Errorf("%v: got %+v %v %v, want %+v %v", tc.in, got, ws, err, tc.want, tc.warns)
		}
	}
}

func ptr[T any](v T) *T { return &v }
