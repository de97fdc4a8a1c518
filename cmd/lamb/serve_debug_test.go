package main

import (
	"os"
	"path/filepath"
	"reflect"
	"testing"

	"github.com/lambhq/lamb/engine"
)

func TestDebugTargets(t *testing.T) {
	dir := t.TempDir()
	cfg := filepath.Join(dir, "debug.yaml")
	if err := os.WriteFile(cfg, []byte("functions:\n  arn:aws:lambda:us-east-1:000000000000:function:b:3:\n    debug-port: 2345\n    wait: false\n  c:\n    debug-port: 9229\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name    string
		opts    debugOptions
		want    []engine.DebugTarget
		wantErr bool
	}{
		{"name", debugOptions{targets: []string{"a=5678"}}, []engine.DebugTarget{{Function: "a", Port: 5678}}, false},
		{"qualified, wait", debugOptions{targets: []string{"a:$LATEST=5678", "a:2=5679"}, wait: true},
			[]engine.DebugTarget{{Function: "a", Qualifier: "$LATEST", Port: 5678, Wait: true}, {Function: "a", Qualifier: "2", Port: 5679, Wait: true}}, false},
		{"arn", debugOptions{targets: []string{"arn:aws:lambda:us-east-1:1:function:a:7=1"}},
			[]engine.DebugTarget{{Function: "arn:aws:lambda:us-east-1:1:function:a", Qualifier: "7", Port: 1}}, false},
		{"file", debugOptions{file: cfg, wait: true}, []engine.DebugTarget{
			{Function: "arn:aws:lambda:us-east-1:000000000000:function:b", Qualifier: "3", Port: 2345},
			{Function: "c", Port: 9229, Wait: true}}, false},
		{"no port", debugOptions{targets: []string{"a"}}, nil, true},
		{"bad port", debugOptions{targets: []string{"a=70000"}}, nil, true},
		{"bad arn", debugOptions{targets: []string{"arn:aws:lambda=1"}}, nil, true},
		{"port twice", debugOptions{targets: []string{"a=1", "b=1"}}, nil, true},
		{"missing file", debugOptions{file: filepath.Join(dir, "none.yaml")}, nil, true},
		{"missing dlv", debugOptions{dlv: filepath.Join(dir, "no-dlv")}, nil, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := tt.opts.debugTargets()
			if (err != nil) != tt.wantErr {
				t.Fatalf("err = %v, wantErr %v", err, tt.wantErr)
			}
			if !tt.wantErr && !reflect.DeepEqual(got, tt.want) {
				t.Fatalf("got %+v\nwant %+v", got, tt.want)
			}
		})
	}
}

// --dlv reaches the backends as LAMB_DLV, made absolute.
func TestDebugDlvFlag(t *testing.T) {
	t.Setenv("LAMB_DLV", "")                       // restored after the test
	dir, err := filepath.EvalSymlinks(t.TempDir()) // macOS: /var is /private/var, as Getwd says
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "dlv"), nil, 0o755); err != nil {
		t.Fatal(err)
	}
	t.Chdir(dir)
	if _, err := (debugOptions{dlv: "dlv"}).debugTargets(); err != nil {
		t.Fatal(err)
	}
	if got, want := os.Getenv("LAMB_DLV"), filepath.Join(dir, "dlv"); got != want {
		t.Fatalf("LAMB_DLV = %q, want %q", got, want)
	}
}
