package docker

import (
	"archive/tar"
	"archive/zip"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"testing"

	"github.com/lambhq/lamb/agent/agentapi"
	"github.com/lambhq/lamb/engine/backend"
	"github.com/lambhq/lamb/ziparchive"
)

type zentry struct {
	name, body string
	link       bool
	exec       bool
}

func zipBytes(t *testing.T, es ...zentry) backend.Artifact {
	t.Helper()
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	for _, e := range es {
		h := &zip.FileHeader{Name: e.name, Method: zip.Deflate}
		switch {
		case e.link:
			h.SetMode(0o777 | 1<<27) // fs.ModeSymlink
		case strings.HasSuffix(e.name, "/"):
			h.SetMode(0o755 | 1<<31) // fs.ModeDir
		case e.exec:
			h.SetMode(0o755)
		default:
			h.SetMode(0o600)
		}
		w, err := zw.CreateHeader(h)
		if err != nil {
			t.Fatal(err)
		}
		_, _ = io.WriteString(w, e.body)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	data := buf.Bytes()
	sum := sha256.Sum256(data)
	return backend.Artifact{SHA256: hex.EncodeToString(sum[:]), Size: int64(len(data)),
		Open: func(context.Context) (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(data)), nil }}
}

func TestZipToTar(t *testing.T) {
	cases := []struct {
		name    string
		zip     []zentry
		want    []string // "name mode [-> target]"
		wantErr error
	}{
		{"files dirs links", []zentry{{name: "lib/"}, {name: "lib/a.py", body: "x"}, {name: "bootstrap", body: "#!", exec: true},
			{name: "lib/b.py", body: "a.py", link: true}},
			[]string{"lib/ 755", "lib/a.py 644", "bootstrap 755", "lib/b.py 777 -> a.py"}, nil},
		{"climbs out", []zentry{{name: "../evil", body: "x"}}, nil, ziparchive.ErrInvalid},
		{"absolute", []zentry{{name: "/etc/passwd", body: "x"}}, nil, ziparchive.ErrInvalid},
		{"link out", []zentry{{name: "l", body: "../../etc", link: true}}, nil, ziparchive.ErrInvalid},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var buf bytes.Buffer
			tw := tar.NewWriter(&buf)
			err := zipToTar(context.Background(), zipBytes(t, tc.zip...), tw)
			if tc.wantErr != nil {
				if !errors.Is(err, tc.wantErr) {
					t.Fatalf("err = %v, want %v", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			_ = tw.Close()
			var got []string
			tr := tar.NewReader(&buf)
			for {
				h, err := tr.Next()
				if err == io.EOF {
					break
				}
				if err != nil {
					t.Fatal(err)
				}
				s := fmt.Sprintf("%s %o", h.Name, h.Mode)
				if h.Typeflag == tar.TypeSymlink {
					s += " -> " + h.Linkname
				}
				got = append(got, s)
			}
			if !slices.Equal(got, tc.want) {
				t.Errorf("tar %q, want %q", got, tc.want)
			}
		})
	}
}

func TestPlanAndEnviron(t *testing.T) {
	b := &Backend{cfg: Config{RuntimeImages: map[string]string{"python": "py-family", "python3.13": "py313", "provided": "prov"},
		API: agentapi.NewListener(nil)}}
	cases := []struct {
		name      string
		spec      backend.Spec
		wantImage string
		wantArgv  []string
		wantTry   []string
		wantEnv   []string
	}{
		{"family image", backend.Spec{Runtime: "python3.12", Handler: "app.handler", Env: map[string]string{"PYTHONPATH": "/mine"}},
			"py-family", []string{"/lambda-entrypoint.sh", "app.handler"}, nil,
			[]string{"PYTHONPATH=/mine:/opt/python/lib/python3.12/site-packages:/opt/python", "AWS_ENDPOINT_URL=http://127.0.0.1:3001", "LAMBDA_TASK_ROOT=/var/task", "TMPDIR=/tmp"}},
		{"runtime image wins", backend.Spec{Runtime: "python3.13", Handler: "h.h"}, "py313", []string{"/lambda-entrypoint.sh", "h.h"}, nil, nil},
		{"provided", backend.Spec{Runtime: "provided.al2023", Handler: "x", Env: map[string]string{"AWS_ENDPOINT_URL": "http://own", agentapi.EnvSecret: "the function's"}},
			"prov", nil, []string{"/var/task/bootstrap", "/opt/bootstrap"}, []string{"AWS_ENDPOINT_URL=http://own"}},
		{"aws image", backend.Spec{Runtime: "nodejs22.x", Handler: "index.handler"}, "public.ecr.aws/lambda/nodejs:22",
			[]string{"/lambda-entrypoint.sh", "index.handler"}, nil,
			[]string{"NODE_PATH=/opt/nodejs/node22/node_modules:/opt/nodejs/node_modules:/var/runtime/node_modules:/var/runtime:/var/task"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			img, argv, try, err := b.plan(context.Background(), &tc.spec)
			if err != nil {
				t.Fatal(err)
			}
			if img != tc.wantImage || !slices.Equal(argv, tc.wantArgv) || !slices.Equal(try, tc.wantTry) {
				t.Errorf("plan = %q %q %q", img, argv, try)
			}
			env := b.environ(&tc.spec)
			for _, kv := range tc.wantEnv {
				if !slices.Contains(env, kv) {
					t.Errorf("env lacks %q: %q", kv, env)
				}
			}
			// No secret, whatever the function sets: Launch adds the agent's,
			// a claim (ahead.go) delivers this to an agent that has its own.
			for _, kv := range env {
				if strings.HasPrefix(kv, agentapi.EnvSecret+"=") || strings.HasPrefix(kv, agentapi.EnvLease+"=") {
					t.Errorf("agent's variable in env: %q", kv)
				}
			}
		})
	}
	if _, _, _, err := b.plan(context.Background(), &backend.Spec{Runtime: "cobol1"}); !errors.Is(err, ErrUnsupported) {
		t.Errorf("unknown runtime: %v", err)
	}
}
