// Package runtimes holds lamb's data about Lambda runtimes (IDs, families,
// deprecation, AWS base images) and the small runtime clients ("bootstraps")
// lamb ships for the python and nodejs families, embedded with go:embed.
//
// The package is pure data: it starts no goroutines and is safe for
// concurrent use.
package runtimes

import (
	"embed"
	"errors"
	"fmt"
	"path"
	"time"
)

// Families of runtimes. A family decides which bootstrap runs the function.
const (
	FamilyPython   = "python"
	FamilyNodejs   = "nodejs"
	FamilyJava     = "java"
	FamilyDotnet   = "dotnet"
	FamilyRuby     = "ruby"
	FamilyGo       = "go"
	FamilyProvided = "provided"
)

// Runtime describes one value of the Lambda API's Runtime enum.
type Runtime struct {
	ID     string // "python3.12"
	Family string // "python", "nodejs", "java", "dotnet", "ruby", "go", "provided"
	Image  string // AWS base image, e.g. "public.ecr.aws/lambda/python:3.12"; empty where AWS never published one

	// AWS's dates for the runtime, each a UTC day (time.Time at 00:00 UTC);
	// zero means AWS lists none (not scheduled). Deprecation ends support;
	// from BlockCreate AWS refuses CreateFunction with the runtime, from
	// BlockUpdate it refuses updates of functions that use it.
	Deprecation time.Time
	BlockCreate time.Time
	BlockUpdate time.Time
	// DatesRead is the day the three dates were read from AWS's table.
	DatesRead time.Time
}

// Deprecated reports whether AWS's support for the runtime has ended at now.
func (r Runtime) Deprecated(now time.Time) bool { return reached(now, r.Deprecation) }

// CreateBlocked reports whether AWS refuses creating functions on the runtime at now.
func (r Runtime) CreateBlocked(now time.Time) bool { return reached(now, r.BlockCreate) }

// UpdateBlocked reports whether AWS refuses updating functions that use the
// runtime at now (UpdateFunctionCode, UpdateFunctionConfiguration).
func (r Runtime) UpdateBlocked(now time.Time) bool { return reached(now, r.BlockUpdate) }

// reached reports whether now is on or after day. AWS applies its runtime
// dates by UTC day: "The date (UTC) on which creating new functions that use
// this runtime or alias is blocked" (RuntimeReleaseLifecycle, Lambda API).
func reached(now, day time.Time) bool {
	return !day.IsZero() && !now.Before(day)
}

const ecr = "public.ecr.aws/lambda/"

// datesRead is when the dates below were read (see all).
var datesRead = day(2026, 12, 2)

func day(y int, m time.Month, d int) time.Time { return time.Date(y, m, d, 0, 0, 0, 0, time.UTC) }

// dates fills a runtime's AWS dates, given as "2006-01-02" ("" for none).
func dates(r Runtime, deprecation, blockCreate, blockUpdate string) Runtime {
	r.Deprecation, r.BlockCreate, r.BlockUpdate = mustDay(deprecation), mustDay(blockCreate), mustDay(blockUpdate)
	r.DatesRead = datesRead
	return r
}

func mustDay(s string) time.Time {
	if s == "" {
		return time.Time{}
	}
	t, err := time.Parse(time.DateOnly, s)
	if err != nil {
		panic(fmt.Sprintf("runtimes: bad date %q: %v", s, err)) // a typo in the table below
	}
	return t
}

// all lists every value of the Runtime enum in shared/aws-models/lambda.json,
// newest first within a family, with AWS's dates from the "Supported
// runtimes" and "Deprecated runtimes" tables of
// https://docs.aws.amazon.com/lambda/latest/dg/lambda-runtimes.html
// (columns Deprecation date, Block function create, Block function update).
//
// Read on 2026-12-02 from the newest copies of that table to be had then:
// tflint-ruleset-aws's rules/lambda_deprecated_runtime/deprecated_runtimes.json,
// generated from the page on 2026-07-31, and cfn-lint's
// src/cfnlint/data/AdditionalSpecs/LmbdRuntimeLifecycle.json, updated from
// the page on 2026-06-02 (cfn-lint issue #4531); the two agree on every row
// here. They match the page's own Python table (python3.11: Jun 30 2027,
// Jul 31 2027, Aug 31 2027) and issue #13's reading of it (nodejs20.x:
// deprecated 2026-04-30, create blocked 2027-02-01). In mid-2026 AWS moved
// most blocks of runtimes already deprecated to 2027-02-01 (create) and
// 2027-03-03 (update), so e.g. python3.8 and nodejs16.x may still be created
// until then, and go1.x functions updated.
//
// AWS's recordings agree: TestRuntimeValidation (2026-01-12) refused
// java8, go1.x, provided, ruby2.7, nodejs14.x, python3.7, dotnetcore3.1 and
// nodejs12.x, and the runtimes its enum error lists as valid that day are
// exactly those not yet create-blocked (runtimes_test.go).
var all = []Runtime{
	dates(Runtime{ID: "nodejs24.x", Family: FamilyNodejs, Image: ecr + "nodejs:24"}, "2028-04-30", "2028-06-01", "2028-07-01"),
	dates(Runtime{ID: "nodejs22.x", Family: FamilyNodejs, Image: ecr + "nodejs:22"}, "2027-04-30", "2027-06-01", "2027-07-01"),
	dates(Runtime{ID: "nodejs20.x", Family: FamilyNodejs, Image: ecr + "nodejs:20"}, "2026-04-30", "2027-02-01", "2027-03-03"),
	dates(Runtime{ID: "nodejs18.x", Family: FamilyNodejs, Image: ecr + "nodejs:18"}, "2025-09-01", "2027-02-01", "2027-03-03"),
	dates(Runtime{ID: "nodejs16.x", Family: FamilyNodejs, Image: ecr + "nodejs:16"}, "2024-06-12", "2027-02-01", "2027-03-03"),
	dates(Runtime{ID: "nodejs14.x", Family: FamilyNodejs, Image: ecr + "nodejs:14"}, "2023-12-04", "2024-01-09", "2027-03-03"),
	dates(Runtime{ID: "nodejs12.x", Family: FamilyNodejs, Image: ecr + "nodejs:12"}, "2023-03-31", "2023-03-31", "2023-04-30"),
	dates(Runtime{ID: "nodejs10.x", Family: FamilyNodejs, Image: ecr + "nodejs:10"}, "2021-07-30", "2021-07-30", "2022-02-14"),
	dates(Runtime{ID: "nodejs8.10", Family: FamilyNodejs}, "2020-03-06", "2020-02-04", "2020-03-06"),
	dates(Runtime{ID: "nodejs6.10", Family: FamilyNodejs}, "2019-08-12", "2019-07-12", "2019-08-12"),
	dates(Runtime{ID: "nodejs4.3", Family: FamilyNodejs}, "2020-03-05", "2020-02-03", "2020-03-05"),
	dates(Runtime{ID: "nodejs4.3-edge", Family: FamilyNodejs}, "2020-03-05", "2019-03-31", "2019-04-30"),
	dates(Runtime{ID: "nodejs", Family: FamilyNodejs}, "2016-08-30", "2016-09-30", "2016-10-31"),

	dates(Runtime{ID: "python3.14", Family: FamilyPython, Image: ecr + "python:3.14"}, "2029-06-30", "2029-07-31", "2029-08-31"),
	dates(Runtime{ID: "python3.13", Family: FamilyPython, Image: ecr + "python:3.13"}, "2029-06-30", "2029-07-31", "2029-08-31"),
	dates(Runtime{ID: "python3.12", Family: FamilyPython, Image: ecr + "python:3.12"}, "2028-10-31", "2028-11-30", "2029-01-10"),
	dates(Runtime{ID: "python3.11", Family: FamilyPython, Image: ecr + "python:3.11"}, "2027-06-30", "2027-07-31", "2027-08-31"),
	dates(Runtime{ID: "python3.10", Family: FamilyPython, Image: ecr + "python:3.10"}, "2026-10-31", "2027-02-01", "2027-03-03"),
	dates(Runtime{ID: "python3.9", Family: FamilyPython, Image: ecr + "python:3.9"}, "2025-12-15", "2027-02-01", "2027-03-03"),
	dates(Runtime{ID: "python3.8", Family: FamilyPython, Image: ecr + "python:3.8"}, "2024-10-14", "2027-02-01", "2027-03-03"),
	dates(Runtime{ID: "python3.7", Family: FamilyPython, Image: ecr + "python:3.7"}, "2023-12-04", "2024-01-09", "2027-03-03"),
	dates(Runtime{ID: "python3.6", Family: FamilyPython}, "2022-07-18", "2022-07-18", "2022-08-29"),
	dates(Runtime{ID: "python2.7", Family: FamilyPython}, "2021-07-15", "2021-07-15", "2022-05-30"),

	dates(Runtime{ID: "java25", Family: FamilyJava, Image: ecr + "java:25"}, "2029-06-30", "2029-07-31", "2029-08-31"),
	dates(Runtime{ID: "java21", Family: FamilyJava, Image: ecr + "java:21"}, "2029-06-30", "2029-07-31", "2029-08-31"),
	dates(Runtime{ID: "java17", Family: FamilyJava, Image: ecr + "java:17"}, "2027-06-30", "2027-07-31", "2027-08-31"),
	dates(Runtime{ID: "java11", Family: FamilyJava, Image: ecr + "java:11"}, "2027-06-30", "2027-07-31", "2027-08-31"),
	dates(Runtime{ID: "java8.al2", Family: FamilyJava, Image: ecr + "java:8.al2"}, "2027-06-30", "2027-07-31", "2027-08-31"),
	dates(Runtime{ID: "java8", Family: FamilyJava, Image: ecr + "java:8"}, "2024-01-08", "2024-02-08", "2027-03-03"),

	dates(Runtime{ID: "dotnet10", Family: FamilyDotnet, Image: ecr + "dotnet:10"}, "2028-11-14", "2028-12-14", "2029-01-15"),
	dates(Runtime{ID: "dotnet8", Family: FamilyDotnet, Image: ecr + "dotnet:8"}, "2026-11-10", "2027-02-01", "2027-03-03"),
	dates(Runtime{ID: "dotnet6", Family: FamilyDotnet, Image: ecr + "dotnet:6"}, "2024-12-20", "2027-02-01", "2027-03-03"),
	dates(Runtime{ID: "dotnetcore3.1", Family: FamilyDotnet, Image: ecr + "dotnet:core3.1"}, "2023-04-03", "2023-04-03", "2023-05-03"),
	dates(Runtime{ID: "dotnetcore2.1", Family: FamilyDotnet}, "2022-01-05", "2022-01-05", "2022-04-13"),
	dates(Runtime{ID: "dotnetcore2.0", Family: FamilyDotnet}, "2019-05-30", "2019-04-30", "2019-05-30"),
	dates(Runtime{ID: "dotnetcore1.0", Family: FamilyDotnet}, "2019-06-27", "2019-06-30", "2019-07-30"),

	dates(Runtime{ID: "ruby3.4", Family: FamilyRuby, Image: ecr + "ruby:3.4"}, "2028-03-31", "2028-04-30", "2028-05-31"),
	dates(Runtime{ID: "ruby3.3", Family: FamilyRuby, Image: ecr + "ruby:3.3"}, "2027-03-31", "2027-04-30", "2027-05-31"),
	dates(Runtime{ID: "ruby3.2", Family: FamilyRuby, Image: ecr + "ruby:3.2"}, "2026-03-31", "2027-02-01", "2027-03-03"),
	dates(Runtime{ID: "ruby2.7", Family: FamilyRuby, Image: ecr + "ruby:2.7"}, "2023-12-07", "2024-01-09", "2027-03-03"),
	dates(Runtime{ID: "ruby2.5", Family: FamilyRuby}, "2021-07-30", "2021-07-30", "2022-03-31"),

	dates(Runtime{ID: "provided.al2023", Family: FamilyProvided, Image: ecr + "provided:al2023"}, "2029-06-30", "2029-07-31", "2029-08-31"),
	dates(Runtime{ID: "provided.al2", Family: FamilyProvided, Image: ecr + "provided:al2"}, "2026-07-31", "2027-02-01", "2027-03-03"),
	dates(Runtime{ID: "provided", Family: FamilyProvided, Image: ecr + "provided:alami"}, "2024-01-08", "2024-02-08", "2027-03-03"),

	dates(Runtime{ID: "go1.x", Family: FamilyGo, Image: ecr + "go:1"}, "2024-01-08", "2024-02-08", "2027-03-03"),
}

var byID = func() map[string]Runtime {
	m := make(map[string]Runtime, len(all))
	for _, r := range all {
		m[r.ID] = r
	}
	return m
}()

// Lookup returns the runtime with the given ID (case-sensitive, as AWS is).
func Lookup(id string) (Runtime, bool) {
	r, ok := byID[id]
	return r, ok
}

// All returns every known runtime in a stable order (by family, newest
// first). The caller owns the returned slice.
func All() []Runtime {
	out := make([]Runtime, len(all))
	copy(out, all)
	return out
}

//go:embed python/bootstrap.py nodejs/bootstrap.mjs
var bootstraps embed.FS

var bootstrapFiles = map[string]string{
	FamilyPython: "python/bootstrap.py",
	FamilyNodejs: "nodejs/bootstrap.mjs",
}

// Bootstrap returns lamb's embedded bootstrap program for a family ("python",
// "nodejs"): the file name to write it under and its content. It returns false
// for families lamb ships none for; "provided" functions bring their own
// `bootstrap` in the zip. The returned slice is a fresh copy.
func Bootstrap(family string) (filename string, content []byte, ok bool) {
	p, ok := bootstrapFiles[family]
	if !ok {
		return "", nil, false
	}
	b, err := bootstraps.ReadFile(p)
	if err != nil {
		// The files are embedded at build time; a miss is a build bug.
		panic(fmt.Sprintf("runtimes: embedded bootstrap %s: %v", p, err))
	}
	return path.Base(p), b, true
}

// ErrNoCommand is returned by Command for families lamb cannot run on a
// host (java, dotnet, ruby, go: no bootstrap shipped) or when the needed
// interpreter is not configured.
var ErrNoCommand = errors.New("runtimes: no host command for this runtime family")

// Interpreters are the host's interpreter paths used by Command.
type Interpreters struct {
	Python string // e.g. "/usr/bin/python3"
	Node   string // e.g. "/usr/bin/node"
	Java   string // e.g. "/usr/bin/java"
}

// Command returns the argv that runs a function of the given family on the
// host: python and nodejs run lamb's bootstrap (written at bootstrapPath, see
// Bootstrap) with the matching interpreter; provided runs the zip's own
// taskRoot+"/bootstrap"; java runs lamb's java bootstrap compiled into the
// folder bootstrapPath (see JavaSources). Other families fail with ErrNoCommand.
func Command(family string, in Interpreters, bootstrapPath, taskRoot string) ([]string, error) {
	switch family {
	case FamilyPython:
		if in.Python == "" {
			return nil, fmt.Errorf("python interpreter not set: %w", ErrNoCommand)
		}
		return []string{in.Python, bootstrapPath}, nil
	case FamilyNodejs:
		if in.Node == "" {
			return nil, fmt.Errorf("node interpreter not set: %w", ErrNoCommand)
		}
		return []string{in.Node, bootstrapPath}, nil
	case FamilyProvided:
		return []string{path.Join(taskRoot, "bootstrap")}, nil
	case FamilyJava:
		if in.Java == "" {
			return nil, fmt.Errorf("java not set: %w", ErrNoCommand)
		}
		// Tiered compilation stopped at C1, as AWS's java runtimes start the JVM: faster cold starts.
		return []string{in.Java, "-XX:+TieredCompilation", "-XX:TieredStopAtLevel=1", "-cp", bootstrapPath, JavaMainClass}, nil
	default:
		return nil, fmt.Errorf("family %q: %w", family, ErrNoCommand)
	}
}
