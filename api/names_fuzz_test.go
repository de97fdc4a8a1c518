package api

import (
	"encoding/json"
	"errors"
	"net/url"
	"os"
	"regexp"
	"strconv"
	"testing"
	"unicode/utf8"

	"github.com/lambhq/lamb/internal/testenv"
)

// modelString is a string shape of the AWS model: its pattern (compiled as
// written: Smithy patterns are searched, not implicitly anchored, which is
// also how Go reads `^a|b$`) and its length bounds.
type modelString struct {
	pattern  *regexp.Regexp
	min, max int
}

// accepts reports whether s satisfies the shape's constraints. Smithy counts
// length in Unicode code points.
func (m modelString) accepts(s string) bool {
	n := utf8.RuneCountInString(s)
	return n >= m.min && n <= m.max && m.pattern.MatchString(s)
}

// loadModelStrings reads the named string shapes of ../shared/aws-models/lambda.json.
func loadModelStrings(tb testing.TB, names ...string) map[string]modelString {
	tb.Helper()
	raw, err := os.ReadFile("../../shared/aws-models/lambda.json")
	testenv.Need(tb, "the AWS model (../shared/aws-models/lambda.json)", err == nil)
	var model struct {
		Shapes map[string]struct {
			Traits struct {
				Length *struct {
					Min *int `json:"min"`
					Max *int `json:"max"`
				} `json:"smithy.api#length"`
				Pattern string `json:"smithy.api#pattern"`
			} `json:"traits"`
		} `json:"shapes"`
	}
	if err := json.Unmarshal(raw, &model); err != nil {
		tb.Fatal(err)
	}
	out := map[string]modelString{}
	for _, name := range names {
		s, ok := model.Shapes["com.amazonaws.lambda#"+name]
		if !ok || s.Traits.Pattern == "" {
			tb.Fatalf("model: no pattern for %s", name)
		}
		ms := modelString{pattern: regexp.MustCompile(s.Traits.Pattern), max: 1 << 30}
		if l := s.Traits.Length; l != nil {
			if l.Min != nil {
				ms.min = *l.Min
			}
			if l.Max != nil {
				ms.max = *l.Max
			}
		}
		out[name] = ms
	}
	return out
}

var (
	bareNamePattern       = regexp.MustCompile(`^[a-zA-Z0-9-_]+$`)
	bareNamespacedPattern = regexp.MustCompile(`^[a-zA-Z0-9-_.]+$`)
	// nameQualifierPattern is what may follow "name:" in a FunctionName.
	nameQualifierPattern = regexp.MustCompile(`^(?:\$LATEST(?:\.PUBLISHED)?|[a-zA-Z0-9-_]+)$`)
)

// FuzzParseNames runs every parser of the names a request carries on one
// string, raw, with qualifier as the Qualifier query: function names,
// partial ARNs and ARNs (both the FunctionName and the newer
// NamespacedFunctionName members), layer names and layer version ARNs.
// None may panic; each either refuses with an AWS 4xx error or accepts a
// value the model's pattern and length accept, whose parts are well formed
// and in the caller's account and region, and whose ARN parses back to the
// same parts.
func FuzzParseNames(f *testing.F) {
	seeds := []struct{ raw, qualifier string }{
		{"my-function", ""},
		{"my-function", "prod"},
		{"my-function:prod", "prod"},
		{"my-function:prod", "other"},
		{"my-function:$LATEST", ""},
		{"fn.with.dots:$LATEST.PUBLISHED", "$LATEST.PUBLISHED"},
		{"111111111111:function:fn", ""},
		{"222222222222:function:fn", ""},
		{"function:fn:7", ""},
		{"us-east-1:111111111111:function:fn", ""},
		{"arn:aws:lambda:us-east-1:111111111111:function:my-function", "1"},
		{"arn:aws:lambda:us-west-2:111111111111:function:my-function", ""},
		{"arn:aws-us-gov:lambda:us-gov-west-1:111111111111:function:fn", ""},
		{"arn:aws-iso:lambda:us-isob-east-1:111111111111:function:fn:$LATEST", ""},
		{"arn:aws:lambda:eusc-de-east-1:111111111111:function:fn", ""},
		{"arn:aws:lambda:us-east-1:111111111111:layer:my-layer", ""},
		{"arn:aws:lambda:us-east-1:111111111111:layer:my-layer:3", ""},
		{"arn:aws:lambda:us-east-1:111111111111:layer:my-layer:0099", ""},
		{"arn:aws:lambda:us-east-1:111111111111:layer:my-layer:99999999999999999999", ""},
		{"arn:aws-cn:lambda:cn-north-1:111111111111:layer:l", ""},
		{"a234567890123456789012345678901234567890123456789012345678901234", ""},
		{"a2345678901234567890123456789012345678901234567890123456789012345", ""},
		{"", ""},
		{":", "$"},
		{"fn:", "!!!"},
		{"fn::", "$LATEST.PUBLISHED!"},
		{"ünïcode", "ü"},
	}
	for _, s := range seeds {
		f.Add(s.raw, s.qualifier)
	}
	model := loadModelStrings(f, "FunctionName", "NamespacedFunctionName", "FunctionArn",
		"NumericLatestPublishedOrAliasQualifier", "LayerName", "LayerVersionArn")
	sc := scope{Account: "111111111111", Region: "us-east-1"}
	f.Fuzz(func(t *testing.T, raw, qualifier string) {
		checkFunctionName(t, model, sc, raw, qualifier)
		checkNamespacedName(t, model, sc, raw, qualifier)
		checkLayerName(t, model, sc, raw)
		checkLayerVersionArn(t, model, raw)
	})
}

// wantAWSError fails unless err is an AWS error of a client's fault.
func wantAWSError(t *testing.T, what string, err error) {
	t.Helper()
	var ae *awsError
	if !errors.As(err, &ae) || ae.Code == "" || ae.Status < 400 || ae.Status > 499 {
		t.Fatalf("%s: error %v (%T) is not an AWS 4xx error", what, err, err)
	}
}

// checkRef checks the parts of an accepted function name.
func checkRef(t *testing.T, sc scope, what string, ref functionRef, name *regexp.Regexp) {
	t.Helper()
	if !name.MatchString(ref.Name) {
		t.Fatalf("%s: name %q", what, ref.Name)
	}
	if ref.Account != "" && !accountIDPattern.MatchString(ref.Account) {
		t.Fatalf("%s: account %q", what, ref.Account)
	}
	if ref.Region != "" && ref.Region != sc.Region {
		t.Fatalf("%s: region %q accepted in %s", what, ref.Region, sc.Region)
	}
}

func checkFunctionName(t *testing.T, model map[string]modelString, sc scope, raw, qualifier string) {
	ref, err := parseFunctionName(raw, sc, 140)
	if err != nil {
		wantAWSError(t, "parseFunctionName", err)
	} else {
		if !model["FunctionName"].accepts(raw) {
			t.Fatalf("parseFunctionName accepted %q, which the model's FunctionName refuses", raw)
		}
		checkRef(t, sc, "parseFunctionName", ref, bareNamePattern)
		if len(ref.Name) > 64 {
			t.Fatalf("parseFunctionName accepted a %d-byte name", len(ref.Name))
		}
		if ref.Qualifier != "" && !nameQualifierPattern.MatchString(ref.Qualifier) {
			t.Fatalf("parseFunctionName: qualifier %q", ref.Qualifier)
		}
		// The function's own ARN, in the caller's account, parses back.
		if ref.Account == "" || ref.Account == sc.Account {
			arn := ref.arn(sc)
			if !model["FunctionArn"].accepts(arn) {
				t.Fatalf("ARN %q of %q does not satisfy the model's FunctionArn", arn, raw)
			}
			if len(arn) <= 140 {
				back, err := parseFunctionName(arn, sc, 140)
				if err != nil {
					t.Fatalf("ARN %q of %q does not parse back: %v", arn, raw, err)
				}
				if back.Name != ref.Name || back.Qualifier != ref.Qualifier || back.Account != sc.Account || back.Region != sc.Region {
					t.Fatalf("ARN %q of %q parses back as %+v, from %+v", arn, raw, back, ref)
				}
			}
		}
	}

	// The same name as a {FunctionName} label of an older operation.
	c := &call{Op: &operation{Name: "UpdateFunctionConfiguration"}, Scope: sc,
		Labels: map[string]string{"FunctionName": raw}, Query: url.Values{}}
	if qualifier != "" {
		c.Query.Set("Qualifier", qualifier)
	}
	got, rerr := resolveFunction(c)
	switch {
	case err != nil:
		if rerr == nil {
			t.Fatalf("resolveFunction accepted %q, which parseFunctionName refuses (%v)", raw, err)
		}
		wantAWSError(t, "resolveFunction", rerr)
	case qualifier != "" && ref.Qualifier != "" && qualifier != ref.Qualifier:
		if rerr == nil {
			t.Fatalf("resolveFunction accepted %q with the Qualifier query %q", raw, qualifier)
		}
		wantAWSError(t, "resolveFunction", rerr)
	case ref.Account != "" && ref.Account != sc.Account:
		var ae *awsError
		if !errors.As(rerr, &ae) || ae.Code != "AccessDeniedException" {
			t.Fatalf("resolveFunction %q, another account's function: %v, want AccessDeniedException", raw, rerr)
		}
	case rerr != nil:
		t.Fatalf("resolveFunction refused %q, which parseFunctionName accepts: %v", raw, rerr)
	case got.Name != ref.Name || (qualifier != "" && got.Qualifier != qualifier) || (qualifier == "" && got.Qualifier != ref.Qualifier):
		t.Fatalf("resolveFunction %q ?Qualifier=%q: %+v, parseFunctionName: %+v", raw, qualifier, got, ref)
	}
}

func checkNamespacedName(t *testing.T, model map[string]modelString, sc scope, raw, qualifier string) {
	c := &call{Op: &operation{Name: "GetFunction"}, Scope: sc,
		Labels: map[string]string{"FunctionName": raw}, Query: url.Values{}}
	if qualifier != "" {
		c.Query.Set("Qualifier", qualifier)
	}
	ref, err := resolveFunction(c)
	if err != nil {
		wantAWSError(t, "resolveNamespaced", err)
		return
	}
	if !model["NamespacedFunctionName"].accepts(raw) {
		t.Fatalf("resolveNamespaced accepted %q, which the model's NamespacedFunctionName refuses", raw)
	}
	if qualifier != "" && !model["NumericLatestPublishedOrAliasQualifier"].accepts(qualifier) {
		t.Fatalf("resolveNamespaced accepted the Qualifier query %q, which the model refuses", qualifier)
	}
	checkRef(t, sc, "resolveNamespaced", ref, bareNamespacedPattern)
	if ref.Account != "" && ref.Account != sc.Account {
		t.Fatalf("resolveNamespaced accepted %q, another account's function", raw)
	}
	if !nameQualifierPattern.MatchString(ref.Qualifier) {
		return // "" or a query qualifier no ARN can carry
	}
	arn := ref.arn(sc)
	back, err := resolveFunction(&call{Op: c.Op, Scope: sc, Labels: map[string]string{"FunctionName": arn}, Query: url.Values{}})
	if len(arn) > 256 {
		if err == nil {
			t.Fatalf("resolveNamespaced accepted the %d-byte ARN %q", len(arn), arn)
		}
		return
	}
	if err != nil {
		t.Fatalf("ARN %q of %q does not parse back: %v", arn, raw, err)
	}
	if back.Name != ref.Name || back.Qualifier != ref.Qualifier || back.Account != sc.Account || back.Region != sc.Region {
		t.Fatalf("ARN %q of %q parses back as %+v, from %+v", arn, raw, back, ref)
	}
}

func checkLayerName(t *testing.T, model map[string]modelString, sc scope, raw string) {
	lsc, name, err := parseLayerName(raw, sc)
	if err != nil {
		wantAWSError(t, "parseLayerName", err)
		return
	}
	if !model["LayerName"].accepts(raw) {
		t.Fatalf("parseLayerName accepted %q, which the model's LayerName refuses", raw)
	}
	if !bareNamePattern.MatchString(name) || !accountIDPattern.MatchString(lsc.Account) || lsc.Region == "" {
		t.Fatalf("parseLayerName %q: %+v, %q", raw, lsc, name)
	}
	if bareNamePattern.MatchString(raw) && (lsc != sc || name != raw) {
		t.Fatalf("parseLayerName of the bare name %q: %+v, %q", raw, lsc, name)
	}
	arn := layerArn(lsc, name)
	if len(arn) > 140 {
		return
	}
	bsc, bname, err := parseLayerName(arn, sc)
	if err != nil || bsc != lsc || bname != name {
		t.Fatalf("layer ARN %q of %q parses back as %+v, %q, %v", arn, raw, bsc, bname, err)
	}
}

func checkLayerVersionArn(t *testing.T, model map[string]modelString, raw string) {
	p, ok := parseLayerVersionArn(raw)
	if !ok {
		return
	}
	if !model["LayerVersionArn"].pattern.MatchString(raw) {
		t.Fatalf("parseLayerVersionArn accepted %q, which the model's LayerVersionArn refuses", raw)
	}
	if p.Version < 0 || !bareNamePattern.MatchString(p.Name) || !accountIDPattern.MatchString(p.Account) {
		t.Fatalf("parseLayerVersionArn %q: %+v", raw, p)
	}
	arn := layerArn(scope{Account: p.Account, Region: p.Region}, p.Name) + ":" + strconv.FormatInt(p.Version, 10)
	back, ok := parseLayerVersionArn(arn)
	if !ok || back != p {
		t.Fatalf("layer version ARN %q of %q parses back as %+v, %v; want %+v", arn, raw, back, ok, p)
	}
}
