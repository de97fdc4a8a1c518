package api

import (
	"context"
	"encoding/json"
	"fmt"
	"net/url"
	"reflect"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	"github.com/aws/aws-sdk-go-v2/service/lambda/types"
	"github.com/lambhq/lamb/store"
)

func TestMarkerRoundTrip(t *testing.T) {
	for _, key := range []string{
		"fn", "fn\n3", "$LATEST", "10", "a-b_c.d",
		"arn:aws:lambda:us-east-1:111111111111:capacity-provider:cp-a",
		"8f6bd5a3-1c2e-4c1e-9a55-0c4d2e6b7f01", "ünïcode/+=",
	} {
		m := encodeMarker(key)
		if m == "" || strings.ContainsAny(m, "+/=") {
			t.Errorf("encodeMarker(%q) = %q: want a non-empty URL-safe token", key, m)
		}
		got, err := decodeMarker(m)
		if err != nil || got != key {
			t.Errorf("decodeMarker(encodeMarker(%q)) = %q, %v", key, got, err)
		}
	}
	if got, err := decodeMarker(""); got != "" || err != nil {
		t.Errorf(`decodeMarker("") = %q, %v; want the start`, got, err)
	}
}

func TestBadMarkerIsRefused(t *testing.T) {
	for _, m := range []string{"a", "not a marker", "Zm4=", "Zm4*", "%%"} {
		_, err := decodeMarker(m)
		ae, ok := err.(*awsError)
		if !ok || ae.Code != "InvalidParameterValueException" || ae.Status != 400 || ae.Message != "Invalid marker: "+m {
			t.Errorf("decodeMarker(%q) = %v; want InvalidParameterValueException 400 %q", m, err, "Invalid marker: "+m)
		}
	}
}

func TestListPage(t *testing.T) {
	entries := []string{"a", "b", "c", "d", "e"}
	tests := []struct {
		name     string
		max      int
		marker   string // a key; "" for none
		want     []string
		wantNext string // a key; "" for the last page
	}{
		{"first page", 2, "", []string{"a", "b"}, "c"},
		{"middle page", 2, "c", []string{"c", "d"}, "e"},
		{"last page", 2, "e", []string{"e"}, ""},
		{"exactly full", 5, "", entries, ""},
		{"one a page", 1, "d", []string{"d"}, "e"},
		{"marker's entry gone", 2, "bb", []string{}, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			q := url.Values{}
			if tc.marker != "" {
				q.Set("Marker", encodeMarker(tc.marker))
			}
			p, err := pageOf(&call{Query: q}, entries, tc.max, func(s string) string { return s })
			if err != nil {
				t.Fatal(err)
			}
			next := ""
			if p.next != "" {
				if next, err = decodeMarker(p.next); err != nil {
					t.Fatal(err)
				}
			}
			if !reflect.DeepEqual(p.items, tc.want) || next != tc.wantNext {
				t.Errorf("page = %q next %q; want %q next %q", p.items, next, tc.want, tc.wantNext)
			}
		})
	}
}

// TestScanPage: a store-scanned list resumes at the marker's entry, or where
// it stood when it is gone, and leaves out what entry refuses.
func TestScanPage(t *testing.T) {
	st := store.NewMemory()
	ctx := context.Background()
	if err := st.Update(ctx, func(tx store.Tx) error {
		for _, k := range []string{"a", "b", "c", "d", "e"} {
			if err := tx.Put("docs", "p/"+k, k); err != nil {
				return err
			}
		}
		return tx.Put("docs", "q/a", "other prefix")
	}); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name     string
		max      int
		marker   string // a key; "" for none
		want     []string
		wantNext string
	}{
		{"first page, c left out", 2, "", []string{"A", "B"}, "d"},
		{"from the marker", 2, "d", []string{"D", "E"}, ""},
		{"marker's entry gone", 1, "bb", []string{"D"}, "e"},
		{"all", 10, "", []string{"A", "B", "D", "E"}, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			q := url.Values{}
			if tc.marker != "" {
				q.Set("Marker", encodeMarker(tc.marker))
			}
			p, err := newPage[string](&call{Query: q}, tc.max)
			if err != nil {
				t.Fatal(err)
			}
			err = st.View(ctx, func(tx store.Tx) error {
				return scanPage(tx, p, "docs", "p/", func(doc *string) (string, string, bool) {
					return *doc, strings.ToUpper(*doc), *doc != "c"
				})
			})
			next := ""
			if p.next != "" {
				next, _ = decodeMarker(p.next)
			}
			if err != nil || !reflect.DeepEqual(p.items, tc.want) || next != tc.wantNext {
				t.Errorf("= %q next %q, %v; want %q next %q", p.items, next, err, tc.want, tc.wantNext)
			}
		})
	}
}

// TestListOperationsPage walks each paged List operation one entry a page,
// following NextMarker, and checks it sees the whole list once, in order; a
// marker it never gave is refused with AWS's answer.
func TestListOperationsPage(t *testing.T) {
	h := newHarness(t, Config{})
	ctx := context.Background()
	c := h.client
	must := func(_ any, err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	for _, name := range []string{"pg", "pg-b", "pg-c"} {
		must(c.CreateFunction(ctx, createInput(t, name)))
		waitActive(t, c, name)
	}
	for i := range 3 {
		must(c.UpdateFunctionConfiguration(ctx, &lambda.UpdateFunctionConfigurationInput{FunctionName: aws.String("pg"), Description: aws.String(fmt.Sprint("v", i+1))}))
		waitUpdated(t, c, "pg") // State stays Active while LastUpdateStatus is InProgress
		must(c.PublishVersion(ctx, &lambda.PublishVersionInput{FunctionName: aws.String("pg")}))
	}
	for i, alias := range []string{"a1", "a2", "a3"} {
		must(c.CreateAlias(ctx, &lambda.CreateAliasInput{FunctionName: aws.String("pg"), Name: aws.String(alias), FunctionVersion: aws.String(fmt.Sprint(1 + i%2))}))
		must(c.CreateFunctionUrlConfig(ctx, &lambda.CreateFunctionUrlConfigInput{FunctionName: aws.String("pg"), Qualifier: aws.String(alias), AuthType: types.FunctionUrlAuthTypeNone}))
		must(c.PutFunctionEventInvokeConfig(ctx, &lambda.PutFunctionEventInvokeConfigInput{FunctionName: aws.String("pg"), Qualifier: aws.String(alias), MaximumRetryAttempts: aws.Int32(1)}))
	}
	must(c.CreateFunctionUrlConfig(ctx, &lambda.CreateFunctionUrlConfigInput{FunctionName: aws.String("pg"), AuthType: types.FunctionUrlAuthTypeNone}))
	must(c.PutFunctionEventInvokeConfig(ctx, &lambda.PutFunctionEventInvokeConfigInput{FunctionName: aws.String("pg"), Qualifier: aws.String("$LATEST"), MaximumRetryAttempts: aws.Int32(1)}))
	for i := range 3 {
		must(c.CreateCodeSigningConfig(ctx, &lambda.CreateCodeSigningConfigInput{AllowedPublishers: &types.AllowedPublishers{
			SigningProfileVersionArns: []string{fmt.Sprintf("arn:aws:signer:us-east-1:111111111111:/signing-profiles/p%d/abc", i)}}}))
		must(c.CreateEventSourceMapping(ctx, &lambda.CreateEventSourceMappingInput{FunctionName: aws.String("pg"),
			EventSourceArn: aws.String(fmt.Sprintf("arn:aws:sqs:us-east-1:111111111111:q%d", i))}))
		must(c.CreateCapacityProvider(ctx, cpInput(fmt.Sprintf("cp-%d", i))))
	}
	for _, layer := range []string{"pl", "pl-b", "pl_c"} {
		for range 2 {
			must(c.PublishLayerVersion(ctx, &lambda.PublishLayerVersionInput{LayerName: aws.String(layer), Content: &types.LayerVersionContentInput{ZipFile: zipOf(t, map[string]string{"a": layer})}}))
		}
	}

	tests := []struct {
		op, path, items string
		want            int // entries in the whole list
	}{
		{"ListFunctions", "/2015-03-31/functions", "Functions", 3},
		{"ListFunctions ALL", "/2015-03-31/functions?FunctionVersion=ALL", "Functions", 6},
		{"ListVersionsByFunction", "/2015-03-31/functions/pg/versions", "Versions", 4},
		{"ListAliases", "/2015-03-31/functions/pg/aliases", "Aliases", 3},
		{"ListAliases of a version", "/2015-03-31/functions/pg/aliases?FunctionVersion=1", "Aliases", 2},
		{"ListFunctionUrlConfigs", "/2021-10-31/functions/pg/urls", "FunctionUrlConfigs", 4},
		{"ListFunctionEventInvokeConfigs", "/2019-09-25/functions/pg/event-invoke-config/list", "FunctionEventInvokeConfigs", 4},
		{"ListCodeSigningConfigs", "/2020-04-22/code-signing-configs", "CodeSigningConfigs", 3},
		{"ListEventSourceMappings", "/2015-03-31/event-source-mappings", "EventSourceMappings", 3},
		{"ListLayers", "/2018-10-31/layers", "Layers", 3},
		{"ListLayerVersions", "/2018-10-31/layers/pl/versions", "LayerVersions", 2},
		{"ListCapacityProviders", "/2025-11-30/capacity-providers", "CapacityProviders", 3},
	}
	auth := sigv4(testAccount, "us-east-1")
	get := func(path string, q url.Values) recorded {
		sep := "?"
		if strings.Contains(path, "?") {
			sep = "&"
		}
		return h.raw("GET", path+sep+q.Encode(), "", auth)
	}
	list := func(t *testing.T, path, field string, q url.Values) ([]any, string) {
		t.Helper()
		rr := get(path, q)
		var out map[string]any
		if err := json.Unmarshal(rr.body, &out); err != nil || rr.status != 200 {
			t.Fatalf("GET %s %s: %d %s", path, q.Encode(), rr.status, rr.body)
		}
		items, _ := out[field].([]any)
		next, _ := out["NextMarker"].(string)
		return items, next
	}
	for _, tc := range tests {
		t.Run(tc.op, func(t *testing.T) {
			whole, next := list(t, tc.path, tc.items, url.Values{})
			if len(whole) != tc.want || next != "" {
				t.Fatalf("whole list: %d entries, NextMarker %q; want %d and none", len(whole), next, tc.want)
			}
			var paged []any
			marker := ""
			for range tc.want + 1 {
				q := url.Values{"MaxItems": {"1"}}
				if marker != "" {
					q.Set("Marker", marker)
				}
				var items []any
				items, marker = list(t, tc.path, tc.items, q)
				paged = append(paged, items...)
				if marker == "" {
					break
				}
			}
			if !reflect.DeepEqual(paged, whole) {
				t.Errorf("pages of one: %v\nwhole list:  %v", paged, whole)
			}
			rr := get(tc.path, url.Values{"Marker": {"not-mine!"}})
			if rr.status != 400 || rr.header.Get("X-Amzn-ErrorType") != "InvalidParameterValueException" ||
				strings.TrimSpace(string(rr.body)) != `{"Type":"User","message":"Invalid marker: not-mine!"}` {
				t.Errorf("bad marker: %d %s %s", rr.status, rr.header.Get("X-Amzn-ErrorType"), rr.body)
			}
		})
	}
}
