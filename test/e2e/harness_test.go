// Package e2e drives the built lamb binary with real clients: aws-sdk-go-v2, boto3
// and the AWS CLI v2. A client that is missing skips its tests with a clear message,
// except under CI=true, where it fails them.
package e2e

import (
	"archive/zip"
	"bytes"
	"context"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/lambhq/lamb/internal/testenv"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	"github.com/aws/aws-sdk-go-v2/service/lambda/types"
)

var lambBin string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "lamb-e2e-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	lambBin = filepath.Join(dir, "lamb")
	build := exec.Command("go", "build", "-o", lambBin, "github.com/lambhq/lamb/cmd/lamb")
	// Static: container backends ship this very binary into containers as the agent.
	build.Env = append(os.Environ(), "CGO_ENABLED=0")
	build.Stdout, build.Stderr = os.Stderr, os.Stderr
	if err := build.Run(); err != nil {
		fmt.Fprintln(os.Stderr, "building lamb:", err)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// need skips the test when a client or tool is missing, or fails it under CI.
func need(t *testing.T, what string, ok bool) {
	t.Helper()
	testenv.Need(t, what, ok)
}

// server is one running `lamb serve`.
type server struct {
	URL     string
	Addr    string
	DataDir string
	cmd     *exec.Cmd
	logs    *syncBuffer
	done    chan struct{}
}

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func freeAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

// startLamb runs `lamb serve` with args on a free port and waits until it is healthy.
// With dataDir "" the server is --ephemeral.
func startLamb(t *testing.T, dataDir string, args ...string) *server {
	t.Helper()
	return startLambAt(t, freeAddr(t), dataDir, args...)
}

func startLambAt(t *testing.T, addr, dataDir string, args ...string) *server {
	t.Helper()
	return startLambEnv(t, addr, dataDir, nil, args...)
}

// startLambEnv is startLambAt with env added to the server's environment.
func startLambEnv(t *testing.T, addr, dataDir string, env []string, args ...string) *server {
	t.Helper()
	// The process backend unless args name another: auto would take a
	// container engine whenever one runs (as under CI).
	all := []string{"serve", "--addr", addr, "--log-level", "debug", "--backend", "process"}
	if dataDir == "" {
		all = append(all, "--ephemeral")
	} else {
		all = append(all, "--data-dir", dataDir)
	}
	all = append(all, args...)
	s := &server{URL: "http://" + addr, Addr: addr, DataDir: dataDir, logs: &syncBuffer{}, done: make(chan struct{})}
	s.cmd = exec.Command(lambBin, all...)
	if env != nil {
		s.cmd.Env = append(os.Environ(), env...)
	}
	s.cmd.Stdout, s.cmd.Stderr = s.logs, s.logs
	ownProcessGroup(s.cmd)
	if err := s.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { _ = s.cmd.Wait(); close(s.done) }()
	t.Cleanup(func() {
		s.stop(t)
		if t.Failed() {
			t.Logf("lamb serve output:\n%s", s.logs.String())
		}
	})
	deadline := time.Now().Add(30 * time.Second)
	for {
		resp, err := http.Get(s.URL + "/_lamb/health")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return s
			}
		}
		select {
		case <-s.done:
			t.Fatalf("lamb serve exited before becoming healthy:\n%s", s.logs.String())
		case <-time.After(20 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			t.Fatalf("lamb serve not healthy after 30s:\n%s", s.logs.String())
		}
	}
}

// stop sends SIGTERM and waits for a clean exit (SIGKILL after 15 s).
func (s *server) stop(t *testing.T) {
	select {
	case <-s.done:
		return
	default:
	}
	_ = s.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-s.done:
	case <-time.After(15 * time.Second):
		t.Errorf("lamb serve did not exit within 15s of SIGTERM")
		_ = killGroup(s.cmd.Process.Pid)
		<-s.done
	}
}

// kill9 kills the server abruptly, as a crash would.
func (s *server) kill9() {
	_ = s.cmd.Process.Signal(syscall.SIGKILL)
	<-s.done
}

// client is an aws-sdk-go-v2 Lambda client for the server. An access key of 12
// digits makes lamb use it as the account id.
func (s *server) client(region, accessKey string) *lambda.Client {
	return lambda.New(lambda.Options{
		Region:           region,
		BaseEndpoint:     aws.String(s.URL),
		Credentials:      credentials.NewStaticCredentialsProvider(accessKey, "secret", ""),
		RetryMaxAttempts: 1,
	})
}

// buildBootstrap compiles testdata/<dir> as a provided.al2023 bootstrap zip.
func buildBootstrap(t *testing.T, dir string) []byte {
	t.Helper()
	out := filepath.Join(t.TempDir(), "bootstrap")
	cmd := exec.Command("go", "build", "-o", out, "./testdata/"+dir)
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build %s: %v\n%s", dir, err, b)
	}
	bin, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	return zipOf(t, map[string]string{"bootstrap": string(bin)})
}

// zipOf builds a zip archive in memory; mode 0o755 marks executables.
func zipOf(t *testing.T, files map[string]string) []byte {
	t.Helper()
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	for name, body := range files {
		h := &zip.FileHeader{Name: name, Method: zip.Deflate}
		mode := os.FileMode(0o644)
		if strings.HasSuffix(name, "bootstrap") {
			mode = 0o755
		}
		h.SetMode(mode)
		w, err := zw.CreateHeader(h)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := w.Write([]byte(body)); err != nil {
			t.Fatal(err)
		}
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func ctxT(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	t.Cleanup(cancel)
	return ctx
}

// createActive creates the function in describes and waits up to wait for it
// to be Active.
func createActive(ctx context.Context, t *testing.T, c *lambda.Client, in *lambda.CreateFunctionInput, wait time.Duration) {
	t.Helper()
	if _, err := c.CreateFunction(ctx, in); err != nil {
		t.Fatalf("CreateFunction %s: %v", aws.ToString(in.FunctionName), err)
	}
	if err := lambda.NewFunctionActiveV2Waiter(c).Wait(ctx, &lambda.GetFunctionInput{FunctionName: in.FunctionName}, wait); err != nil {
		t.Fatal(err)
	}
}

// startGoFunction starts lamb with the function dir: testdata/<dir>
// (aws-lambda-go) built as a provided.al2023 bootstrap, Active. It returns the
// test's context and a client of account 123456789012.
func startGoFunction(t *testing.T, dir string) (context.Context, *lambda.Client) {
	t.Helper()
	s := startLamb(t, "")
	ctx := ctxT(t)
	c := s.client("us-east-1", "123456789012")
	createActive(ctx, t, c, &lambda.CreateFunctionInput{
		FunctionName: aws.String(dir), Runtime: types.RuntimeProvidedal2023, Role: aws.String(role),
		Handler: aws.String("bootstrap"), Code: &types.FunctionCode{ZipFile: buildBootstrap(t, dir)},
	}, time.Minute)
	return ctx, c
}
