package runtimes

import (
	"encoding/json"
	"errors"
	"os"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

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
		id                 string
		wantFamily, wantIm string
		wantOK             bool
	}{
		{"python3.12", "python", "public.ecr.aws/lambda/python:3.12", true},
		{"nodejs22.x", "nodejs", "public.ecr.aws/lambda/nodejs:22", true},
		{"provided.al2023", "provided", "public.ecr.aws/lambda/provided:al2023", true},
		{"java8.al2", "java", "public.ecr.aws/lambda/java:8.al2", true},
		{"dotnet10", "dotnet", "public.ecr.aws/lambda/dotnet:10", true},
		{"go1.x", "go", "public.ecr.aws/lambda/go:1", true},
		{"nodejs4.3", "nodejs", "", true},
		{"Python3.12", "", "", false},
		{"python3.15", "", "", false},
		{"", "", "", false},
	}
	for _, tc := range tests {
		got, ok := Lookup(tc.id)
		if ok != tc.wantOK || got.Family != tc.wantFamily || got.Image != tc.wantIm || (ok && got.ID != tc.id) {
			t.Errorf("Lookup(%q) = %+v, %v; want family %q, image %q, %v", tc.id, got, ok, tc.wantFamily, tc.wantIm, tc.wantOK)
		}
	}
}

// TestDates checks the decisions on each side of each of AWS's dates: the
// day before a date is still allowed, the date itself (00:00 UTC) is not.
func TestDates(t *testing.T) {
	utc := func(s string) time.Time {
		t.Helper()
		v, err := time.Parse(time.RFC3339, s)
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
	type want struct{ deprecated, createBlocked, updateBlocked bool }
	tests := []struct {
		id   string
		now  string
		want want
	}{
		// Issue #13's two readings of AWS's page.
		{"python3.11", "2026-12-02T12:00:00Z", want{false, false, false}},
		{"python3.11", "2027-06-29T23:59:59Z", want{false, false, false}},
		{"python3.11", "2027-06-30T00:00:00Z", want{true, false, false}},
		{"python3.11", "2027-07-30T23:59:59Z", want{true, false, false}},
		{"python3.11", "2027-07-31T00:00:00Z", want{true, true, false}},
		{"python3.11", "2027-08-30T23:59:59Z", want{true, true, false}},
		{"python3.11", "2027-08-31T00:00:00Z", want{true, true, true}},
		{"nodejs20.x", "2026-04-29T23:59:59Z", want{false, false, false}},
		{"nodejs20.x", "2026-04-30T00:00:00Z", want{true, false, false}},
		{"nodejs20.x", "2026-12-02T12:00:00Z", want{true, false, false}},
		{"nodejs20.x", "2027-01-31T23:59:59Z", want{true, false, false}},
		{"nodejs20.x", "2027-02-01T00:00:00Z", want{true, true, false}},
		{"nodejs20.x", "2027-03-02T23:59:59Z", want{true, true, false}},
		{"nodejs20.x", "2027-03-03T00:00:00Z", want{true, true, true}},
		// A UTC day: 23:00 on Jan 31 in New York is Feb 1 in UTC.
		{"nodejs20.x", "2027-01-31T23:00:00-05:00", want{true, true, false}},
		// Create blocked long ago, updates allowed again until 2027-03-03.
		{"go1.x", "2026-12-02T12:00:00Z", want{true, true, false}},
		{"go1.x", "2027-03-03T00:00:00Z", want{true, true, true}},
		// Everything blocked for years.
		{"python2.7", "2026-12-02T12:00:00Z", want{true, true, true}},
		{"nodejs4.3-edge", "2026-12-02T12:00:00Z", want{true, true, true}},
		// Deprecated, still accepted for create today.
		{"dotnet8", "2026-11-09T23:59:59Z", want{false, false, false}},
		{"dotnet8", "2026-11-10T00:00:00Z", want{true, false, false}},
		{"python3.8", "2026-12-02T12:00:00Z", want{true, false, false}},
		// Supported.
		{"python3.14", "2026-12-02T12:00:00Z", want{false, false, false}},
	}
	for _, tc := range tests {
		r, ok := Lookup(tc.id)
		if !ok {
			t.Fatalf("no runtime %s", tc.id)
		}
		now := utc(tc.now)
		got := want{r.Deprecated(now), r.CreateBlocked(now), r.UpdateBlocked(now)}
		if got != tc.want {
			t.Errorf("%s at %s: deprecated, create blocked, update blocked = %v; want %v", tc.id, tc.now, got, tc.want)
		}
	}
	if (Runtime{}).CreateBlocked(utc("2100-01-01T00:00:00Z")) {
		t.Error("a runtime without dates is blocked")
	}
}

// TestDatesMatchAWS checks the table against what AWS answered on the day
// it was recorded (shared/aws-snapshots, TestRuntimeValidation and
// test_create_lambda_exceptions, both 2026-01-12).
func TestDatesMatchAWS(t *testing.T) {
	recorded := time.Date(2026, 1, 12, 15, 31, 21, 0, time.UTC)
	// AWS refused these with "The runtime parameter of X is no longer
	// supported for creating or updating AWS Lambda functions."
	for _, id := range []string{"java8", "go1.x", "provided", "ruby2.7", "nodejs14.x", "python3.7", "dotnetcore3.1", "nodejs12.x"} {
		r, ok := Lookup(id)
		if !ok || !r.CreateBlocked(recorded) {
			t.Errorf("%s: got %+v, %v; want create blocked on %s", id, r, ok, recorded.Format(time.DateOnly))
		}
	}
	// AWS's enum error that day listed as valid exactly the runtimes whose
	// creation was not blocked.
	for _, r := range All() {
		if open := !r.CreateBlocked(recorded); open != slices.Contains(snapshotValidSet, r.ID) {
			t.Errorf("%s: create open on %s = %v, but AWS's valid set says %v", r.ID, recorded.Format(time.DateOnly), open, !open)
		}
	}
	for _, r := range All() {
		if r.DatesRead.IsZero() || r.Deprecation.IsZero() || r.BlockCreate.IsZero() || r.BlockUpdate.IsZero() {
			t.Errorf("%s lacks AWS's dates: %+v", r.ID, r)
		}
		if !r.CreateBlocked(r.DatesRead) && r.Image == "" {
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
