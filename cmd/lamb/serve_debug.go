package main

import (
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"

	"github.com/spf13/pflag"
	"gopkg.in/yaml.v3"

	"github.com/lambhq/lamb/engine"
)

// debugOptions are serve's debugger flags (docs/debugging.md).
type debugOptions struct {
	targets []string // FUNCTION[:QUALIFIER]=PORT
	file    string
	wait    bool
	dlv     string // delve for provided functions; LAMB_DLV for the backends
}

func addDebugFlags(f *pflag.FlagSet, o *debugOptions) {
	f.StringArrayVar(&o.targets, "debug", nil, "FUNCTION[:QUALIFIER]=PORT: run the function (a name or ARN; qualifier a version, default $LATEST) under its runtime's debugger on 127.0.0.1:PORT, one instance at a time, its timeout suspended; repeatable (docs/debugging.md)")
	f.StringVar(&o.file, "debug-config", "", "YAML file of functions to debug, as LocalStack's debug-mode config: functions: {FUNCTION[:QUALIFIER]: {debug-port: PORT, wait: BOOL}}")
	f.StringVar(&o.dlv, "dlv", "", "delve binary for debugged provided (Go) functions, a Linux build for containers (default: $LAMB_DLV, dlv on PATH, ~/go/bin/dlv)")
	f.BoolVar(&o.wait, "debug-wait", false, "debugged functions wait for a debugger to attach before their handler loads")
}

// debugFile is --debug-config's document.
type debugFile struct {
	Functions map[string]struct {
		DebugPort int   `yaml:"debug-port"`
		Wait      *bool `yaml:"wait"`
	} `yaml:"functions"`
}

// debugTargets parses the flags and the file into the engine's targets.
func (o debugOptions) debugTargets() ([]engine.DebugTarget, error) {
	var out []engine.DebugTarget
	if o.dlv != "" {
		// The backends look dlv up in LAMB_DLV (then PATH) when a provided
		// function's instance starts: --dlv sets it for them.
		p, err := filepath.Abs(o.dlv)
		if err == nil {
			_, err = os.Stat(p)
		}
		if err != nil {
			return nil, fmt.Errorf("--dlv: %w", err)
		}
		if err := os.Setenv("LAMB_DLV", p); err != nil {
			return nil, fmt.Errorf("--dlv: %w", err)
		}
	}
	for _, s := range o.targets {
		i := strings.LastIndex(s, "=")
		if i < 0 {
			return nil, fmt.Errorf("--debug %q: want FUNCTION[:QUALIFIER]=PORT", s)
		}
		t, err := debugTarget(s[:i], s[i+1:])
		if err != nil {
			return nil, fmt.Errorf("--debug %q: %w", s, err)
		}
		t.Wait = o.wait
		out = append(out, t)
	}
	if o.file != "" {
		data, err := os.ReadFile(o.file)
		if err != nil {
			return nil, fmt.Errorf("--debug-config: %w", err)
		}
		var doc debugFile
		if err := yaml.Unmarshal(data, &doc); err != nil {
			return nil, fmt.Errorf("--debug-config %s: %w", o.file, err)
		}
		names := make([]string, 0, len(doc.Functions))
		for k := range doc.Functions {
			names = append(names, k)
		}
		sort.Strings(names)
		for _, name := range names {
			e := doc.Functions[name]
			t, err := debugTarget(name, strconv.Itoa(e.DebugPort))
			if err != nil {
				return nil, fmt.Errorf("--debug-config %s: %s: %w", o.file, name, err)
			}
			t.Wait = o.wait
			if e.Wait != nil {
				t.Wait = *e.Wait
			}
			out = append(out, t)
		}
	}
	seen := map[int]string{}
	for _, t := range out {
		if prev, ok := seen[t.Port]; ok {
			return nil, fmt.Errorf("debug port %d given to %s and %s", t.Port, prev, t.Function)
		}
		seen[t.Port] = t.Function
	}
	return out, nil
}

// debugTarget reads FUNCTION[:QUALIFIER] (a name or an ARN, qualified or
// not) and a port.
func debugTarget(fn, port string) (engine.DebugTarget, error) {
	p, err := strconv.Atoi(port)
	if err != nil || p < 1 || p > 65535 {
		return engine.DebugTarget{}, fmt.Errorf("bad port %q", port)
	}
	t := engine.DebugTarget{Function: fn, Port: p}
	if strings.HasPrefix(fn, "arn:") {
		if parts := strings.Split(fn, ":"); len(parts) == 8 {
			t.Function, t.Qualifier = strings.Join(parts[:7], ":"), parts[7]
		} else if len(parts) != 7 {
			return engine.DebugTarget{}, fmt.Errorf("bad function ARN %q", fn)
		}
	} else if name, q, ok := strings.Cut(fn, ":"); ok {
		t.Function, t.Qualifier = name, q
	}
	if t.Function == "" {
		return engine.DebugTarget{}, fmt.Errorf("no function in %q", fn)
	}
	return t, nil
}
