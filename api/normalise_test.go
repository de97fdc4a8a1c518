package api

import (
	"encoding/json"
	"fmt"
	"reflect"
	"sort"
	"strings"
	"testing"
	"time"
)

// normaliser replaces dynamic values the way the snapshot README describes:
// RevisionIds become <uuid:N> and CodeSha256 <code-sha256:N>, numbered in
// order of first appearance across one scenario (walking keys sorted);
// CodeSize becomes <code-size>; LastModified/CreatedDate "date" when written
// in AWS's format (awsDate), else left as they are, to differ; Locations
// <location>/<layer-location>; the partition and region <partition>/<region>;
// literal strings registered in replace (function names, role, layer names,
// runtime version ARNs) become their placeholders.
type normaliser struct {
	replace []string // old, new pairs, applied in order to every string
	uuids   map[string]string
	shas    map[string]string
}

func newNormaliser(pairs ...string) *normaliser {
	return &normaliser{replace: pairs, uuids: map[string]string{}, shas: map[string]string{}}
}

func (n *normaliser) str(s string) string {
	if strings.Contains(s, "arn:aws:") {
		s = strings.ReplaceAll(s, "arn:aws:", "arn:<partition>:")
		s = strings.ReplaceAll(s, ":us-east-1:", ":<region>:")
	}
	if strings.Contains(s, "('us-east-1')") {
		s = strings.ReplaceAll(s, "('us-east-1')", "('<region>')")
	}
	for i := 0; i+1 < len(n.replace); i += 2 {
		s = strings.ReplaceAll(s, n.replace[i], n.replace[i+1])
	}
	return s
}

func (n *normaliser) value(key string, v any) any {
	switch x := v.(type) {
	case map[string]any:
		out := map[string]any{}
		keys := make([]string, 0, len(x))
		for k := range x {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		layout := awsDateLayout
		if _, ok := x["RequestedProvisionedConcurrentExecutions"]; ok {
			layout = provisionedDateLayout
		}
		for _, k := range keys {
			if d, ok := x[k].(string); ok && (k == "LastModified" || k == "CreatedDate") {
				out[k] = d
				if awsDate(layout, d) {
					out[k] = "date"
				}
				continue
			}
			out[k] = n.value(k, x[k])
		}
		return out
	case []any:
		out := make([]any, len(x))
		for i := range x {
			out[i] = n.value(key, x[i])
		}
		return out
	case string:
		switch key {
		case "RevisionId":
			return number(n.uuids, x, "uuid")
		case "CodeSha256":
			return number(n.shas, x, "code-sha256")
		}
		return n.str(x)
	case float64:
		if key == "CodeSize" {
			return "<code-size>"
		}
	}
	return v
}

// How AWS writes LastModified and CreatedDate (the recordings keep only
// "date"): functions, layers, aliases' and code signing configs' dates have
// milliseconds and a +0000 offset ("2019-10-14T22:17:18.123+0000" in the API
// reference's examples); provisioned concurrency configs have whole seconds
// ("2019-12-31T20:28:49+0000", the AWS CLI reference's
// get-provisioned-concurrency-config example).
const (
	awsDateLayout         = "2006-01-02T15:04:05.000+0000"
	provisionedDateLayout = "2006-01-02T15:04:05+0000"
)

// awsDate reports whether s is written exactly in layout.
func awsDate(layout, s string) bool {
	t, err := time.Parse(layout, s)
	return err == nil && t.Format(layout) == s
}

func number(m map[string]string, v, kind string) string {
	if p, ok := m[v]; ok {
		return p
	}
	p := fmt.Sprintf("<%s:%d>", kind, len(m)+1)
	m[v] = p
	return p
}

// normalise applies the rules to a whole boto3 view; Location members are
// replaced by placeholder (the snapshot's "<location>" or "<layer-location>").
func (n *normaliser) normalise(view map[string]any, location string) map[string]any {
	out := n.value("", view).(map[string]any)
	if code, ok := out["Code"].(map[string]any); ok && code["Location"] != nil {
		code["Location"] = location
	}
	if c, ok := out["Content"].(map[string]any); ok && c["Location"] != nil {
		c["Location"] = location
	}
	return out
}

// expected extracts one label of a snapshot, dropping HTTPHeaders and
// LocalStack's operation-named wrappers.
func expected(t *testing.T, snap snapshot, label string) map[string]any {
	t.Helper()
	v, ok := snap.labels[label].(map[string]any)
	if !ok {
		t.Fatalf("snapshot has no label %q", label)
	}
	if _, ok := v["ResponseMetadata"]; !ok {
		// A wrapper (CreateFunctionResponse...) holds the response; members
		// such as ImageConfigResponse are not wrappers.
		for k, inner := range v {
			if m, ok := inner.(map[string]any); ok && strings.HasSuffix(k, "Response") && m["ResponseMetadata"] != nil {
				v = m
				break
			}
		}
	}
	if md, ok := v["ResponseMetadata"].(map[string]any); ok {
		delete(md, "HTTPHeaders")
	}
	// Round-trip so numbers compare as float64 like ours.
	raw, _ := json.Marshal(v)
	var out map[string]any
	_ = json.Unmarshal(raw, &out)
	return out
}

// matchSnapshot compares a normalised response with a recorded label field
// for field and, when it matches, counts the label in the parity report.
func matchSnapshot(t *testing.T, snap snapshot, label string, got map[string]any) {
	t.Helper()
	if assertMatches(t, snap.id+" "+label, got, expected(t, snap, label)) {
		tallyParity(snap.id, label)
	}
}

// assertMatches compares a normalised response with a snapshot label field
// for field and reports whether they match.
func assertMatches(t *testing.T, label string, got, want map[string]any) bool {
	t.Helper()
	if reflect.DeepEqual(got, want) {
		return true
	}
	g, _ := json.MarshalIndent(got, "", "  ")
	w, _ := json.MarshalIndent(want, "", "  ")
	t.Errorf("%s differs from AWS's recording\n got: %s\nwant: %s", label, g, w)
	return false
}
