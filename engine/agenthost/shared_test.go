package agenthost_test

import (
	"context"
	"errors"
	"io"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/lambhq/lamb/engine/agenthost"
	"github.com/lambhq/lamb/engine/backend"
)

func TestEnviron(t *testing.T) {
	cases := []struct {
		name     string
		spec     backend.Spec
		endpoint string
		want     map[string]string // "" value: must be absent
	}{
		{"python with own path", backend.Spec{Runtime: "python3.12", Env: map[string]string{"PYTHONPATH": "/mine", "A": "b"}}, "http://gw:1",
			map[string]string{"PYTHONPATH": "/mine:/opt/python/lib/python3.12/site-packages:/opt/python", "A": "b",
				"AWS_ENDPOINT_URL": "http://gw:1", "LAMBDA_TASK_ROOT": "/var/task", "LAMBDA_RUNTIME_DIR": "/var/runtime", "TMPDIR": "/tmp",
				"PATH": "/var/lang/bin:/usr/local/bin:/usr/bin:/bin:/opt/bin"}},
		{"node", backend.Spec{Runtime: "nodejs22.x"}, "",
			map[string]string{"NODE_PATH": "/opt/nodejs/node22/node_modules:/opt/nodejs/node_modules:/var/runtime/node_modules:/var/runtime:/var/task",
				"AWS_ENDPOINT_URL": "", "PYTHONPATH": ""}},
		{"own endpoint wins", backend.Spec{Runtime: "provided.al2023", Env: map[string]string{"AWS_ENDPOINT_URL": "http://own", "PATH": "/x"}}, "http://gw:1",
			map[string]string{"AWS_ENDPOINT_URL": "http://own", "PATH": "/x:/var/lang/bin:/usr/local/bin:/usr/bin:/bin:/opt/bin"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			env := agenthost.Environ(&c.spec, c.endpoint)
			for k, v := range c.want {
				if got, ok := env[k]; v == "" && ok || v != "" && got != v {
					t.Errorf("%s = %q (set %v), want %q", k, got, ok, v)
				}
			}
		})
	}
}

type member struct {
	id      string
	stopped atomic.Int32
}

func (m *member) ID() string { return m.id }
func (m *member) Stop(context.Context) error {
	m.stopped.Add(1)
	return nil
}

func TestLive(t *testing.T) {
	var l agenthost.Live[*member]
	a, a2, b := &member{id: "a"}, &member{id: "a"}, &member{id: "b"}
	if err := l.Add(a); err != nil {
		t.Fatal(err)
	}
	if err := l.Add(a2); err == nil {
		t.Fatal("a second instance with the same ID was added")
	}
	l.Remove(a2) // not the live one: a stays
	if !l.Has("a") {
		t.Fatal("Remove of another instance dropped a")
	}
	if err := l.Add(b); err != nil {
		t.Fatal(err)
	}
	l.Remove(b)
	if l.Has("b") {
		t.Fatal("b still live")
	}
	if err := l.StopAll(context.Background()); err != nil {
		t.Fatal(err)
	}
	if a.stopped.Load() != 1 || b.stopped.Load() != 0 {
		t.Fatalf("stopped a %d, b %d times", a.stopped.Load(), b.stopped.Load())
	}
	if err := l.Add(&member{id: "c"}); !errors.Is(err, agenthost.ErrClosed) {
		t.Fatalf("Add after StopAll = %v", err)
	}
}

func TestBeginAndBody(t *testing.T) {
	exited, exit := context.WithCancel(context.Background())
	ictx, release, err := agenthost.Begin(context.Background(), "i", exited)
	if err != nil {
		t.Fatal(err)
	}
	var released atomic.Int32
	rel := func() { released.Add(1); release() }
	xe := &backend.ExitError{Code: 3}
	broken := errors.New("broken")
	body := agenthost.NewBody(io.NopCloser(io.MultiReader(strings.NewReader("ab"), errReader{broken})), rel,
		func(err error) error {
			if errors.Is(err, broken) {
				return xe
			}
			return nil
		})
	data, err := io.ReadAll(body)
	if string(data) != "ab" || !errors.Is(err, xe) {
		t.Fatalf("read %q, %v; want the exit", data, err)
	}
	_ = body.Close()
	if released.Load() != 1 {
		t.Fatalf("released %d times", released.Load())
	}
	if ictx.Err() == nil {
		t.Fatal("release did not end the invocation's context")
	}

	ictx, release, err = agenthost.Begin(context.Background(), "i", exited)
	if err != nil {
		t.Fatal(err)
	}
	defer release()
	exit()
	<-ictx.Done() // the exit ends the invocation
	if _, _, err := agenthost.Begin(context.Background(), "i", exited); !errors.Is(err, backend.ErrNotDelivered) {
		t.Fatalf("Begin after exit = %v", err)
	}
}

func TestTrailer(t *testing.T) {
	if fe := agenthost.Trailer(func() (string, []byte) { return "", nil })(); fe != nil {
		t.Fatalf("no trailer: %+v", fe)
	}
	if fe := agenthost.Trailer(func() (string, []byte) { return "E", []byte("b") })(); fe == nil || fe.Type != "E" || string(fe.Body) != "b" {
		t.Fatalf("trailer: %+v", fe)
	}
}

type errReader struct{ err error }

func (r errReader) Read([]byte) (int, error) { return 0, r.err }
