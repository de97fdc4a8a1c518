package api

import (
	"bytes"
	"context"
	"net/http/httptest"
	"os"
	"regexp"
	"strings"
	"testing"

	"github.com/lambhq/lamb/internal/testenv"

	"github.com/lambhq/lamb/store"

	"github.com/lambhq/lamb/api/internal/modelgen"
)

// TestModelTableMatchesModel regenerates model_gen.go from the model and
// requires the committed file to be identical.
func TestModelTableMatchesModel(t *testing.T) {
	raw, err := os.ReadFile("../../shared/aws-models/lambda.json")
	testenv.Need(t, "the AWS model (../shared/aws-models/lambda.json)", err == nil)
	want, err := modelgen.Generate(raw)
	if err != nil {
		t.Fatal(err)
	}
	got, err := os.ReadFile("model_gen.go")
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want) {
		t.Fatal("model_gen.go is stale: run `go generate ./api/`")
	}
}

// TestEveryOperationRoutes sends each operation's own method and URI (sample
// label values, the URI's literal query) through ServeHTTP: operations with a
// handler must not answer the routing errors, the others answer 501 naming
// themselves.
func TestEveryOperationRoutes(t *testing.T) {
	srv := New(Config{Store: store.NewMemory()})
	t.Cleanup(func() { _ = srv.Close(context.Background()) })
	handlers := srv.handlers()
	for _, op := range operations {
		t.Run(op.Name, func(t *testing.T) {
			path, query, _ := strings.Cut(op.URI, "?")
			path = labelPattern.ReplaceAllString(path, "sample")
			if query != "" {
				path += "?" + query
			}
			req := httptest.NewRequest(op.Method, path, strings.NewReader("{}"))
			rec := httptest.NewRecorder()
			srv.ServeHTTP(rec, req)
			errType := rec.Header().Get("X-Amzn-ErrorType")
			if _, ok := handlers[op.Name]; ok {
				if rec.Code == 501 || errType == "UnknownOperationException" || errType == "MethodNotAllowedException" {
					t.Fatalf("%s %s: %d %s %s", op.Method, path, rec.Code, errType, rec.Body)
				}
				return
			}
			if rec.Code != 501 || errType != "ServiceException" || !strings.Contains(rec.Body.String(), "the "+op.Name+" operation") {
				t.Fatalf("%s %s: want 501 naming %s, got %d %s %s", op.Method, path, op.Name, rec.Code, errType, rec.Body)
			}
		})
	}
}

var labelPattern = regexp.MustCompile(`\{[^}]+\}`)
