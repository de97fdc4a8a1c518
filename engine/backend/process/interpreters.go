package process

import (
	"context"
	"fmt"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"time"

	"github.com/lambhq/lamb/runtimes"
)

// Which host interpreter runs a runtime. AWS's python3.12 is CPython 3.12 and
// its nodejs22.x is Node.js 22; the host may have other versions, and a
// function that works on one may fail on the other. So each runtime runs, in
// order of preference, on:
//
//  1. the interpreter Config.Interpreters names for its runtime id
//     (lamb serve --runtime-interpreter python3.12=/usr/bin/python3.12);
//  2. one on PATH named after its version (python3.12; node22), if it runs
//     and — for python, since AWS's runtimes include boto3 — imports boto3
//     whenever the default interpreter does;
//  3. the family's default (Config.PythonBin, Config.NodeBin).
//
// Each choice is made once per runtime and logged: at info when the
// interpreter's version is the runtime's, as a warning when it is not
// (RuntimeNote says the same for CreateFunction's log line).

// interpreterChoice is what runs one runtime on this host.
type interpreterChoice struct {
	path    string // "" when none was found
	version string // "3.11.7", "20.20.2"; "" when unknown
	matches bool   // version is the runtime's
	why     string // how it was chosen
	err     error  // why there is none
}

var versionRE = regexp.MustCompile(`(\d+)\.(\d+)(?:\.(\d+))?`)

// wantVersion is the version prefix a runtime promises: "3.12" for
// python3.12, "22" for nodejs22.x; "" for families without an interpreter.
func wantVersion(rt runtimes.Runtime) string {
	switch rt.Family {
	case runtimes.FamilyPython:
		return strings.TrimPrefix(rt.ID, "python")
	case runtimes.FamilyNodejs:
		return strings.TrimSuffix(strings.TrimPrefix(rt.ID, "nodejs"), ".x")
	case runtimes.FamilyJava:
		return javaWant(rt.ID) // java.go
	}
	return ""
}

// versionMatches says whether an interpreter's version is what want
// promises ("3.12" matches 3.12.1, not 3.1.2; "22" matches 22.3.0).
func versionMatches(version, want string) bool {
	return version == want || strings.HasPrefix(version, want+".")
}

// chooseInterpreter picks, once per runtime, what runs rt on this host, and
// logs the choice when it makes it.
func (b *Backend) chooseInterpreter(rt runtimes.Runtime) interpreterChoice {
	c, made := b.interpreterFor(rt)
	switch {
	case !made || c.err != nil:
	case c.matches:
		b.log.Info("process backend: runtime interpreter", "runtime", rt.ID, "interpreter", c.path, "version", c.version, "chosen", c.why)
	default:
		b.log.Warn("process backend: "+b.RuntimeNote(rt.ID), "runtime", rt.ID, "interpreter", c.path, "version", c.version)
	}
	return c
}

// interpreterFor returns rt's choice, making it (made) on first use.
func (b *Backend) interpreterFor(rt runtimes.Runtime) (_ interpreterChoice, made bool) {
	b.interpMu.Lock()
	c, ok := b.interps[rt.ID]
	b.interpMu.Unlock()
	if ok {
		return c, false
	}
	c = b.resolveInterpreter(rt) // unlocked: it runs interpreters
	b.interpMu.Lock()
	defer b.interpMu.Unlock()
	if prev, ok := b.interps[rt.ID]; ok {
		return prev, false // another launch chose first
	}
	b.interps[rt.ID] = c
	return c, true
}

func (b *Backend) resolveInterpreter(rt runtimes.Runtime) interpreterChoice {
	want := wantVersion(rt)
	if p := b.cfg.Interpreters[rt.ID]; p != "" {
		path, err := lookPath(p)
		if err != nil {
			return interpreterChoice{err: fmt.Errorf("--runtime-interpreter %s=%s: %w", rt.ID, p, err)}
		}
		if rt.Family == runtimes.FamilyPython {
			path, _ = realPython(path)
		}
		v := interpreterVersion(path)
		return interpreterChoice{path: path, version: v, matches: versionMatches(v, want), why: "--runtime-interpreter"}
	}
	var def string
	var err error
	switch rt.Family {
	case runtimes.FamilyPython:
		def, err = b.python()
	case runtimes.FamilyNodejs:
		def, err = lookPath(b.cfg.NodeBin)
	case runtimes.FamilyJava:
		def, err = lookPath("java")
	default:
		return interpreterChoice{}
	}
	dv := ""
	if err == nil {
		dv = interpreterVersion(def)
		if versionMatches(dv, want) {
			return interpreterChoice{path: def, version: dv, matches: true, why: "default"}
		}
	}
	if rt.Family == runtimes.FamilyJava {
		// JVMs are not named after their versions on PATH: look where JDKs are installed.
		if p, v := versionedJava(want); p != "" {
			return interpreterChoice{path: p, version: v, matches: true, why: "JVM of version " + want}
		}
		if err != nil {
			return interpreterChoice{err: err}
		}
		return interpreterChoice{path: def, version: dv, matches: false, why: "default"}
	}
	// One named after the version, on PATH.
	name := "python" + want
	if rt.Family == runtimes.FamilyNodejs {
		name = "node" + want
	}
	if p, lerr := exec.LookPath(name); lerr == nil {
		if rt.Family == runtimes.FamilyPython {
			p, _ = realPython(p)
		}
		v := interpreterVersion(p)
		usable := versionMatches(v, want)
		if usable && rt.Family == runtimes.FamilyPython && err == nil && importsBoto3(def) && !importsBoto3(p) {
			usable = false // AWS's python runtimes have boto3: the default has it, this one does not
		}
		if usable {
			return interpreterChoice{path: p, version: v, matches: true, why: name + " on PATH"}
		}
	}
	if err != nil {
		return interpreterChoice{err: err}
	}
	return interpreterChoice{path: def, version: dv, matches: false, why: "default"}
}

// RuntimeNote says, for people, when the host runs runtime on an interpreter
// of another version than AWS's (and how to name one); "" when it does not,
// or runtime needs no interpreter. It may run the interpreters once.
func (b *Backend) RuntimeNote(runtime string) string {
	rt, ok := runtimes.Lookup(runtime)
	if !ok || wantVersion(rt) == "" {
		return ""
	}
	c, _ := b.interpreterFor(rt)
	switch {
	case c.err != nil:
		return fmt.Sprintf("runtime %s cannot run on this host: %v", runtime, c.err)
	case c.matches:
		return ""
	case c.version == "":
		return fmt.Sprintf("runtime %s runs on %s, whose version lamb could not tell; name one with --runtime-interpreter %s=PATH", runtime, c.path, runtime)
	}
	return fmt.Sprintf("runtime %s runs on %s %s (%s), not %s as on AWS; name one with --runtime-interpreter %s=PATH",
		runtime, familyName(rt.Family), c.version, c.path, wantVersion(rt), runtime)
}

// Interpreters lists, for the serve banner, the interpreters behind the
// families' defaults with their versions: "python 3.11.7, node 20.20.2".
func (b *Backend) Interpreters() string {
	var parts []string
	if py, err := b.python(); err == nil {
		parts = append(parts, "python "+orUnknown(interpreterVersion(py)))
	}
	if node, err := lookPath(b.cfg.NodeBin); err == nil {
		parts = append(parts, "node "+orUnknown(interpreterVersion(node)))
	}
	if java, err := lookPath("java"); err == nil {
		parts = append(parts, "java "+orUnknown(interpreterVersion(java)))
	}
	return strings.Join(parts, ", ")
}

func orUnknown(v string) string {
	if v == "" {
		return "(version unknown)"
	}
	return v
}

func familyName(f string) string {
	if f == runtimes.FamilyNodejs {
		return "Node.js"
	}
	if f == runtimes.FamilyJava {
		return "Java"
	}
	return "Python"
}

// realPython is the interpreter a python wrapper (a pyenv shim) leads to;
// bin itself, and why, when it cannot tell.
func realPython(bin string) (string, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	out, err := exec.CommandContext(ctx, bin, "-c", "import sys; sys.stdout.write(sys.executable)").Output()
	exe := strings.TrimSpace(string(out))
	if err == nil && !filepath.IsAbs(exe) {
		err = fmt.Errorf("sys.executable %q is not an absolute path", exe)
	}
	if err != nil {
		return bin, err
	}
	return exe, nil
}

// interpreterVersion asks an interpreter its version ("Python 3.11.7",
// "v20.20.2"); "" when it does not say.
func interpreterVersion(bin string) string {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	out, err := exec.CommandContext(ctx, bin, "--version").CombinedOutput()
	if err != nil {
		return ""
	}
	m := versionRE.FindStringSubmatch(string(out))
	if m == nil {
		return ""
	}
	return m[0]
}

func importsBoto3(python string) bool {
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	return exec.CommandContext(ctx, python, "-c", "import boto3").Run() == nil
}
