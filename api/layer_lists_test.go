package api

import (
	"encoding/base64"
	"encoding/json"
	"net/http"
	"testing"
)

// TestLayerListsAsSent: a layer version answers CompatibleRuntimes and
// CompatibleArchitectures as they were published: absent when not sent (AWS's
// recording TestLambdaLayer::test_layer_s3_content), [] when sent empty
// (test_layer_exceptions publish_empty_result), the list otherwise. The
// request is raw JSON because SDKs drop an empty list.
func TestLayerListsAsSent(t *testing.T) {
	h := newHarness(t, Config{})
	zip := base64.StdEncoding.EncodeToString(zipOf(t, map[string]string{"python/x.py": "X = 1\n"}))
	for _, tc := range []struct {
		name, lists string
		want        map[string]any // key -> want JSON value; nil means absent
	}{
		{"absent", ``, map[string]any{"CompatibleRuntimes": nil, "CompatibleArchitectures": nil}},
		{"empty", `"CompatibleRuntimes":[],"CompatibleArchitectures":[],`, map[string]any{"CompatibleRuntimes": []any{}, "CompatibleArchitectures": []any{}}},
		{"given", `"CompatibleRuntimes":["python3.12"],`, map[string]any{"CompatibleRuntimes": []any{"python3.12"}, "CompatibleArchitectures": nil}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			path := "/2018-10-31/layers/lists-" + tc.name + "/versions"
			pub := h.raw(http.MethodPost, path, `{`+tc.lists+`"Content":{"ZipFile":"`+zip+`"}}`, sigv4(testAccount, "us-east-1"))
			if pub.status != http.StatusCreated {
				t.Fatalf("PublishLayerVersion: %d %s", pub.status, pub.body)
			}
			get := h.raw(http.MethodGet, path+"/1", "", sigv4(testAccount, "us-east-1"))
			for op, rr := range map[string]recorded{"PublishLayerVersion": pub, "GetLayerVersion": get} {
				var got map[string]any
				if err := json.Unmarshal(rr.body, &got); err != nil {
					t.Fatal(err)
				}
				for key, want := range tc.want {
					v, present := got[key]
					switch {
					case want == nil && present:
						t.Errorf("%s: %s is %v; want it absent", op, key, v)
					case want != nil && !present:
						t.Errorf("%s: %s absent; want %v", op, key, want)
					case want != nil:
						if a, b := mustJSON(t, v), mustJSON(t, want); a != b {
							t.Errorf("%s: %s = %s; want %s", op, key, a, b)
						}
					}
				}
			}
		})
	}
}

func mustJSON(t *testing.T, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}
