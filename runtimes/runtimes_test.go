package runtimes

import (
	"encoding/json"
	"errors"
	"os"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/lambhq/lamb/internal/testenv"
)

// modelPath is AWS's Smithy model of the Lambda API, when the workspace has it.
const modelPath = "../../shared/aws-models/lambda.json"

// snapshotValidSet is the enum value set AWS itself printed for CreateFunction's
// runtime (shared/aws-snapshots/lambda_api.snapshot.json): every runtime we
// accept for create must be in it.
var snapshotValidSet = strings.Split("nodejs20.x, python3.14, provided.al2023, python3.12, python3.13, nodejs24.x, nodejs22.x, java25, python3.10, python3.11, java21, ruby3.3, ruby3.4, ruby3.2, python3.8, python3.9, java17, nodejs16.x, dotnet10, dotnet8, java11, dotnet6, nodejs18.x, provided.al2, java8.al2", ", ")

func TestLookup(t *testing.T) {
	tests := []struct {
		id     string
		want   Runtime
		wantOK bool
	}{
		{"python3.12", Runtime{ID: "python3.12", Family: "python", Image: "public.ecr.aws/lambda/python:3.12"}, true},
		{"nodejs22.x", Runtime{ID: "nodejs22.x", Family: "nodejs", Image: "public.ecr.aws/lambda/nodejs:22"}, true},
		{"provided.al2023", Runtime{ID: "provided.al2023", Family: "provided", Image: "public.ecr.aws/lambda/provided:al2023"}, true},
		{"java8.al2", Runtime{ID: "java8.al2", Family: "java", Deprecated: true, Image: "public.ecr.aws/lambda/java:8.al2"}, true},
		{"dotnet10", Runtime{ID: "dotnet10", Family: "dotnet", Image: "public.ecr.aws/lambda/dotnet:10"}, true},
		{"go1.x", Runtime{ID: "go1.x", Family: "go", Deprecated: true, Image: "public.ecr.aws/lambda/go:1"}, true},
		{"Python3.12", Runtime{}, false},
		{"python3.15", Runtime{}, false},
		{"", Runtime{}, false},
	}
	for _, tc := range tests {
		got, ok := Lookup(tc.id)
		if ok != tc.wantOK || got != tc.want {
			t.Errorf("Lookup(%q) = %+v, %v; want %+v, %v", tc.id, got, ok, tc.want, tc.wantOK)
		}
	}
}

func TestDeprecatedMatchesAWS(t *testing.T) {
	// AWS refused these in TestRuntimeValidation with "The runtime parameter of
	// X is no longer supported for creating or updating AWS Lambda functions."
	for _, id := range []string{"java8", "go1.x", "provided", "ruby2.7", "nodejs14.x", "python3.7", "dotnetcore3.1", "nodejs12.x"} {
		r, ok := Lookup(id)
		if !ok || !r.Deprecated {
			t.Errorf("%s: got %+v, %v; want a deprecated runtime", id, r, ok)
		}
	}
	for _, r := range All() {
		if !r.Deprecated && !slices.Contains(snapshotValidSet, r.ID) {
			t.Errorf("%s is accepted for create but not in AWS's valid set", r.ID)
		}
		if !r.Deprecated && r.Image == "" {
			t.Errorf("%s is accepted for create but has no image", r.ID)
		}
	}
}

func TestAllCoversModelEnum(t *testing.T) {
	all := All()
	seen := map[string]bool{}
	for _, r := range all {
		if seen[r.ID] {
			t.Errorf("duplicate runtime %s", r.ID)
		}
		seen[r.ID] = true
		if r.Family == "" {
			t.Errorf("%s has no family", r.ID)
		}
	}
	if !reflect.DeepEqual(all, All()) {
		t.Error("All is not stable")
	}
	all[0].ID = "mutated"
	if All()[0].ID == "mutated" {
		t.Error("All returned the package's own slice")
	}

	raw, err := os.ReadFile(modelPath)
	testenv.Need(t, "the AWS model at "+modelPath, !errors.Is(err, os.ErrNotExist))
	if err != nil {
		t.Fatal(err)
	}
	var model struct {
		Shapes map[string]struct {
			Members map[string]struct {
				Traits map[string]json.RawMessage `json:"traits"`
			} `json:"members"`
		} `json:"shapes"`
	}
	if err := json.Unmarshal(raw, &model); err != nil {
		t.Fatal(err)
	}
	members := model.Shapes["com.amazonaws.lambda#Runtime"].Members
	if len(members) == 0 {
		t.Fatal("no Runtime enum in the model")
	}
	for name, m := range members {
		var v string
		if err := json.Unmarshal(m.Traits["smithy.api#enumValue"], &v); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if !seen[v] {
			t.Errorf("model runtime %q missing from All()", v)
		}
	}
	if len(members) != len(all) {
		t.Errorf("model has %d runtimes, All() %d", len(members), len(all))
	}
}

func TestBootstrap(t *testing.T) {
	tests := []struct {
		family   string
		wantName string
		wantOK   bool
	}{
		{"python", "bootstrap.py", true},
		{"nodejs", "bootstrap.mjs", true},
		{"provided", "", false},
		{"java", "", false},
	}
	for _, tc := range tests {
		name, content, ok := Bootstrap(tc.family)
		if ok != tc.wantOK || name != tc.wantName || ok != (len(content) > 0) {
			t.Errorf("Bootstrap(%q) = %q, %d bytes, %v", tc.family, name, len(content), ok)
		}
	}
	_, a, _ := Bootstrap("python")
	a[0] = 'X'
	if _, b, _ := Bootstrap("python"); b[0] == 'X' {
		t.Error("Bootstrap shares its content between callers")
	}
}

func TestCommand(t *testing.T) {
	in := Interpreters{Python: "/usr/bin/python3", Node: "/usr/bin/node"}
	tests := []struct {
		family  string
		in      Interpreters
		want    []string
		wantErr bool
	}{
		{"python", in, []string{"/usr/bin/python3", "/rt/bootstrap.py"}, false},
		{"nodejs", in, []string{"/usr/bin/node", "/rt/bootstrap.py"}, false},
		{"provided", Interpreters{}, []string{"/var/task/bootstrap"}, false},
		{"python", Interpreters{}, nil, true},
		{"nodejs", Interpreters{Python: "/usr/bin/python3"}, nil, true},
		{"java", in, nil, true},
	}
	for _, tc := range tests {
		got, err := Command(tc.family, tc.in, "/rt/bootstrap.py", "/var/task")
		if tc.wantErr != (err != nil) || !slices.Equal(got, tc.want) {
			t.Errorf("Command(%q) = %q, %v; want %q, err %v", tc.family, got, err, tc.want, tc.wantErr)
		}
		if err != nil && !errors.Is(err, ErrNoCommand) {
			t.Errorf("Command(%q) error %v is not ErrNoCommand", tc.family, err)
		}
	}
}
