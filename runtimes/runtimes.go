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
	ID         string // "python3.12"
	Family     string // "python", "nodejs", "java", "dotnet", "ruby", "go", "provided"
	Deprecated bool   // AWS refuses CreateFunction for it
	Image      string // AWS base image, e.g. "public.ecr.aws/lambda/python:3.12"; empty where AWS never published one
}

const ecr = "public.ecr.aws/lambda/"

// all lists every value of the Runtime enum in shared/aws-models/lambda.json,
// newest first within a family. Deprecated means "AWS blocks function create"
// as of 2026-11, from AWS's Lambda runtimes page (deprecation date, then block
// create about two months later):
//   - nodejs20.x: deprecated Apr 30 2026, create blocked Aug 31 2026.
//   - python3.10, python3.11, java8.al2, java11, java17, provided.al2 (Amazon
//     Linux 2 based): deprecated Jun 30 2026, create blocked since.
//   - ruby3.2: deprecated Mar 31 2026.
//   - nodejs18.x (Sep 2025), python3.9 (Dec 2025), nodejs16.x, python3.8,
//     dotnet6 (2024) and everything older.
//
// dotnet8 is deprecated Nov 10 2026 but create is not blocked yet.
// TestRuntimeValidation in the AWS snapshot confirms java8, go1.x, provided,
// ruby2.7, nodejs14.x, python3.7, dotnetcore3.1 and nodejs12.x are refused.
var all = []Runtime{
	{ID: "nodejs24.x", Family: FamilyNodejs, Image: ecr + "nodejs:24"},
	{ID: "nodejs22.x", Family: FamilyNodejs, Image: ecr + "nodejs:22"},
	{ID: "nodejs20.x", Family: FamilyNodejs, Deprecated: true, Image: ecr + "nodejs:20"},
	{ID: "nodejs18.x", Family: FamilyNodejs, Deprecated: true, Image: ecr + "nodejs:18"},
	{ID: "nodejs16.x", Family: FamilyNodejs, Deprecated: true, Image: ecr + "nodejs:16"},
	{ID: "nodejs14.x", Family: FamilyNodejs, Deprecated: true, Image: ecr + "nodejs:14"},
	{ID: "nodejs12.x", Family: FamilyNodejs, Deprecated: true, Image: ecr + "nodejs:12"},
	{ID: "nodejs10.x", Family: FamilyNodejs, Deprecated: true, Image: ecr + "nodejs:10"},
	{ID: "nodejs8.10", Family: FamilyNodejs, Deprecated: true},
	{ID: "nodejs6.10", Family: FamilyNodejs, Deprecated: true},
	{ID: "nodejs4.3", Family: FamilyNodejs, Deprecated: true},
	{ID: "nodejs4.3-edge", Family: FamilyNodejs, Deprecated: true},
	{ID: "nodejs", Family: FamilyNodejs, Deprecated: true},

	{ID: "python3.14", Family: FamilyPython, Image: ecr + "python:3.14"},
	{ID: "python3.13", Family: FamilyPython, Image: ecr + "python:3.13"},
	{ID: "python3.12", Family: FamilyPython, Image: ecr + "python:3.12"},
	{ID: "python3.11", Family: FamilyPython, Deprecated: true, Image: ecr + "python:3.11"},
	{ID: "python3.10", Family: FamilyPython, Deprecated: true, Image: ecr + "python:3.10"},
	{ID: "python3.9", Family: FamilyPython, Deprecated: true, Image: ecr + "python:3.9"},
	{ID: "python3.8", Family: FamilyPython, Deprecated: true, Image: ecr + "python:3.8"},
	{ID: "python3.7", Family: FamilyPython, Deprecated: true, Image: ecr + "python:3.7"},
	{ID: "python3.6", Family: FamilyPython, Deprecated: true},
	{ID: "python2.7", Family: FamilyPython, Deprecated: true},

	{ID: "java25", Family: FamilyJava, Image: ecr + "java:25"},
	{ID: "java21", Family: FamilyJava, Image: ecr + "java:21"},
	{ID: "java17", Family: FamilyJava, Deprecated: true, Image: ecr + "java:17"},
	{ID: "java11", Family: FamilyJava, Deprecated: true, Image: ecr + "java:11"},
	{ID: "java8.al2", Family: FamilyJava, Deprecated: true, Image: ecr + "java:8.al2"},
	{ID: "java8", Family: FamilyJava, Deprecated: true, Image: ecr + "java:8"},

	{ID: "dotnet10", Family: FamilyDotnet, Image: ecr + "dotnet:10"},
	{ID: "dotnet8", Family: FamilyDotnet, Image: ecr + "dotnet:8"},
	{ID: "dotnet6", Family: FamilyDotnet, Deprecated: true, Image: ecr + "dotnet:6"},
	{ID: "dotnetcore3.1", Family: FamilyDotnet, Deprecated: true, Image: ecr + "dotnet:core3.1"},
	{ID: "dotnetcore2.1", Family: FamilyDotnet, Deprecated: true},
	{ID: "dotnetcore2.0", Family: FamilyDotnet, Deprecated: true},
	{ID: "dotnetcore1.0", Family: FamilyDotnet, Deprecated: true},

	{ID: "ruby3.4", Family: FamilyRuby, Image: ecr + "ruby:3.4"},
	{ID: "ruby3.3", Family: FamilyRuby, Image: ecr + "ruby:3.3"},
	{ID: "ruby3.2", Family: FamilyRuby, Deprecated: true, Image: ecr + "ruby:3.2"},
	{ID: "ruby2.7", Family: FamilyRuby, Deprecated: true, Image: ecr + "ruby:2.7"},
	{ID: "ruby2.5", Family: FamilyRuby, Deprecated: true},

	{ID: "provided.al2023", Family: FamilyProvided, Image: ecr + "provided:al2023"},
	{ID: "provided.al2", Family: FamilyProvided, Deprecated: true, Image: ecr + "provided:al2"},
	{ID: "provided", Family: FamilyProvided, Deprecated: true, Image: ecr + "provided:alami"},

	{ID: "go1.x", Family: FamilyGo, Deprecated: true, Image: ecr + "go:1"},
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
}

// Command returns the argv that runs a function of the given family on the
// host: python and nodejs run lamb's bootstrap (written at bootstrapPath, see
// Bootstrap) with the matching interpreter; provided runs the zip's own
// taskRoot+"/bootstrap". Other families fail with ErrNoCommand.
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
	default:
		return nil, fmt.Errorf("family %q: %w", family, ErrNoCommand)
	}
}
