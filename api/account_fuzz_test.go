package api

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
)

// FuzzCredentialScope reads SigV4 credential scopes from an arbitrary
// Authorization header, from an arbitrary presigned query, and from
// well-formed ones built of the fuzzed parts. credentialScope never panics;
// what it returns always comes from the request (never holds a separator);
// and for a well-formed scope it returns exactly its access key id and
// region, in the header and in the query alike.
func FuzzCredentialScope(f *testing.F) {
	f.Add("AWS4-HMAC-SHA256 Credential=111111111111/20260101/us-east-1/lambda/aws4_request, SignedHeaders=host;x-amz-date, Signature=0000",
		"X-Amz-Credential=AKIDEXAMPLE%2F20260101%2Feu-west-1%2Flambda%2Faws4_request", "AKIDEXAMPLE", "20260101", "us-west-2", "lambda")
	f.Add("AWS4-HMAC-SHA256 Credential=a/b/c/d", "X-Amz-Credential=a/b/c/d/e/f", "", "", "", "")
	f.Add("Credential=", "X-Amz-Credential=%zz", "akid", "date", "", "lambda")
	f.Add("Credential=1/2/3/4/5,Credential=6/7/8/9/0", "X-Amz-Credential=////&X-Amz-Credential=a/b/c/d/e", "x", "y", "z", "w")
	f.Add("AWS4-HMAC-SHA256 Credential=AKID/20260101/us-east-1/lambda/aws4_request Signature=0", ";", "AKID=x", "d", "ap-south-1", "execute-api")
	f.Add("Bearer token", "", "a\x00b", "\xff", "r\tegion", "s")
	f.Fuzz(func(t *testing.T, auth, rawQuery, akid, date, region, service string) {
		// Arbitrary input: an Authorization header, else the query.
		for _, r := range []*http.Request{
			{Header: http.Header{"Authorization": {auth}}, URL: &url.URL{RawQuery: rawQuery}},
			{Header: http.Header{}, URL: &url.URL{RawQuery: rawQuery}},
		} {
			gotAkid, gotRegion := credentialScope(r)
			source := r.Header.Get("Authorization")
			if source == "" {
				source = r.URL.Query().Get("X-Amz-Credential")
			}
			for _, got := range []string{gotAkid, gotRegion} {
				if strings.ContainsAny(got, "/") || !strings.Contains(source, got) {
					t.Fatalf("credentialScope(%q) returned %q: not a part of the scope", source, got)
				}
			}
			if r.Header.Get("Authorization") != "" && strings.ContainsAny(gotAkid+gotRegion, ", ") {
				t.Fatalf("credentialScope(%q) = %q, %q: ran past the Credential field", source, gotAkid, gotRegion)
			}
			if !strings.Contains(source, "/") && (gotAkid != "" || gotRegion != "") {
				t.Fatalf("credentialScope(%q) = %q, %q from no scope", source, gotAkid, gotRegion)
			}
		}

		// A well-formed scope: five parts, none holding a separator.
		for _, p := range []string{akid, date, region, service} {
			if strings.ContainsAny(p, "/, ") {
				return
			}
		}
		cred := akid + "/" + date + "/" + region + "/" + service + "/aws4_request"
		header := &http.Request{
			Header: http.Header{"Authorization": {"AWS4-HMAC-SHA256 Credential=" + cred + ", SignedHeaders=host;x-amz-date, Signature=0000"}},
			URL:    &url.URL{RawQuery: rawQuery},
		}
		presigned := &http.Request{
			Header: http.Header{},
			URL:    &url.URL{RawQuery: url.Values{"X-Amz-Credential": {cred}, "X-Amz-Signature": {"0000"}}.Encode()},
		}
		for name, r := range map[string]*http.Request{"Authorization": header, "X-Amz-Credential": presigned} {
			if gotAkid, gotRegion := credentialScope(r); gotAkid != akid || gotRegion != region {
				t.Fatalf("%s %q: credentialScope = %q, %q; want %q, %q", name, cred, gotAkid, gotRegion, akid, region)
			}
		}
	})
}
