package bench

import (
	"archive/zip"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	"github.com/aws/aws-sdk-go-v2/service/lambda/types"
)

// The RIE is built from the Go module proxy at this pinned version; run.sh pins
// the same one (TestRunScriptPinsRIEVersion keeps them in step). The module has
// no tagged releases, so the pin is a pseudo-version.
const (
	rieModule  = "github.com/aws/aws-lambda-runtime-interface-emulator/cmd/aws-lambda-rie"
	rieVersion = "v0.0.0-20261030222936-bef5c4ba774d"
)

// Function names on lamb, and the path the RIE serves its one function on.
const (
	fnEchoGo   = "bench-echo-go"
	fnEchoPy   = "bench-echo-py"
	fnSleepGo  = "bench-sleep20-go"
	riePath    = "/2015-03-31/functions/function/invocations"
	readyLimit = 60 * time.Second
)

var scaleWindow = flag.Duration("bench.window", 2*time.Second,
	"wall time of each scale-out measurement window (1 client, then 4)")

func TestMain(m *testing.M) {
	flag.Parse()
	code := m.Run()
	if shared != nil {
		shared.close()
	}
	os.Exit(code)
}

// harness is what every benchmark shares: the built binaries, one `lamb serve`
// on the process backend and the functions created on it. It is built on first
// use, so that `go test ./bench/` without -bench starts nothing, and torn down
// by TestMain.
type harness struct {
	dir                      string
	lambBin, rieBin, echoBin string
	lamb                     *proc
	lambURL                  string
	sdk                      *lambda.Client
	httpc                    *http.Client

	mu      sync.Mutex
	created map[string]bool
	rie     *proc // the warm benchmark's long-lived RIE
	rieURL  string
	seq     int // makes names of fresh functions unique

	echoSrv    *proc // the loopback echo server, the floor (floor_bench_test.go)
	echoSrvURL string
}

var (
	sharedOnce sync.Once
	shared     *harness
	sharedErr  error
)

// setup returns the shared harness, building it on first use.
func setup(b *testing.B) *harness {
	b.Helper()
	sharedOnce.Do(func() {
		shared, sharedErr = newHarness(context.Background())
	})
	if sharedErr != nil {
		b.Fatal(sharedErr)
	}
	return shared
}

func newHarness(ctx context.Context) (h *harness, err error) {
	dir, err := os.MkdirTemp("", "lamb-bench-")
	if err != nil {
		return nil, fmt.Errorf("temp dir: %w", err)
	}
	h = &harness{
		dir:     dir,
		created: map[string]bool{},
		// Both sides get the same client: keep-alive, enough idle connections
		// for the scale-out clients, no proxy.
		httpc: &http.Client{
			Transport: &http.Transport{MaxIdleConnsPerHost: 16, DisableCompression: true},
			Timeout:   2 * time.Minute,
		},
	}
	defer func() {
		if err != nil {
			h.close()
			h = nil
		}
	}()
	if h.lambBin, err = binary(ctx, "LAMB_BENCH_LAMB", filepath.Join(dir, "lamb"), nil,
		"go", "build", "-o", filepath.Join(dir, "lamb"), "github.com/lambhq/lamb/cmd/lamb"); err != nil {
		return h, err
	}
	if h.echoBin, err = binary(ctx, "LAMB_BENCH_ECHO", filepath.Join(dir, "echo"), []string{"CGO_ENABLED=0"},
		"go", "build", "-o", filepath.Join(dir, "echo"), "./testdata/echo"); err != nil {
		return h, err
	}
	if h.rieBin, err = binary(ctx, "LAMB_BENCH_RIE", filepath.Join(dir, "aws-lambda-rie"), []string{"GOBIN=" + dir},
		"go", "install", rieModule+"@"+rieVersion); err != nil {
		return h, err
	}

	addr, err := freeAddr()
	if err != nil {
		return h, err
	}
	h.lambURL = "http://" + addr
	h.lamb, err = startProc(filepath.Join(dir, "lamb.log"), dir, nil, h.lambBin,
		"serve", "--ephemeral", "--backend", "process", "--addr", addr, "--max-instances", "10")
	if err != nil {
		return h, err
	}
	if err := h.lamb.waitReady(ctx, func() bool { return httpOK(h.httpc, h.lambURL+"/_lamb/health") }); err != nil {
		return h, fmt.Errorf("lamb serve: %w", err)
	}
	h.sdk = h.newSDK()
	return h, nil
}

// newSDK returns an aws-sdk-go-v2 Lambda client of lamb at h.lambURL, on
// h's HTTP client, that does not retry.
func (h *harness) newSDK() *lambda.Client {
	return lambda.New(lambda.Options{
		Region:           "us-east-1",
		BaseEndpoint:     aws.String(h.lambURL),
		Credentials:      credentials.NewStaticCredentialsProvider("AKIDBENCH", "secret", ""),
		RetryMaxAttempts: 1,
		HTTPClient:       h.httpc,
	})
}

// binary returns the path in envVar if set, else builds out with the command.
func binary(ctx context.Context, envVar, out string, env []string, name string, args ...string) (string, error) {
	if p := os.Getenv(envVar); p != "" {
		if _, err := os.Stat(p); err != nil {
			return "", fmt.Errorf("%s: %w", envVar, err)
		}
		return p, nil
	}
	cmd := exec.CommandContext(ctx, name, args...)
	cmd.Env = append(os.Environ(), env...)
	if b, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("build %s: %w\n%s", filepath.Base(out), err, b)
	}
	return out, nil
}

func (h *harness) close() {
	if h.rie != nil {
		h.rie.stop()
	}
	if h.echoSrv != nil {
		h.echoSrv.stop()
	}
	if h.lamb != nil {
		h.lamb.stop()
	}
	os.RemoveAll(h.dir)
}

// fnSpec is a function the benchmarks create on lamb.
type fnSpec struct {
	runtime types.Runtime
	handler string
	python  bool // the python echo, else the Go echo bootstrap
	env     map[string]string
}

var specs = map[string]fnSpec{
	fnEchoGo:  {runtime: types.RuntimeProvidedal2023, handler: "bootstrap"},
	fnEchoPy:  {runtime: types.RuntimePython312, handler: "handler.handler", python: true},
	fnSleepGo: {runtime: types.RuntimeProvidedal2023, handler: "bootstrap", env: map[string]string{"ECHO_SLEEP_MS": "20"}},
}

// ensureFunction creates the named function of specs once and returns its
// Invoke URL.
func (h *harness) ensureFunction(ctx context.Context, name string) (string, error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if !h.created[name] {
		if err := h.createFunction(ctx, name, specs[name]); err != nil {
			return "", err
		}
		h.created[name] = true
	}
	return h.invokeURL(name), nil
}

// freshFunction creates a new function like the named one, under a new name.
func (h *harness) freshFunction(ctx context.Context, like string) (string, error) {
	h.mu.Lock()
	h.seq++
	name := fmt.Sprintf("%s-fresh-%d", like, h.seq)
	h.mu.Unlock()
	return name, h.createFunction(ctx, name, specs[like])
}

func (h *harness) invokeURL(name string) string {
	return h.lambURL + "/2015-03-31/functions/" + name + "/invocations"
}

func (h *harness) createFunction(ctx context.Context, name string, s fnSpec) error {
	code, err := h.codeZip(s.python)
	if err != nil {
		return err
	}
	in := &lambda.CreateFunctionInput{
		FunctionName: aws.String(name),
		Runtime:      s.runtime,
		Handler:      aws.String(s.handler),
		Role:         aws.String("arn:aws:iam::000000000000:role/bench"),
		Code:         &types.FunctionCode{ZipFile: code},
		Timeout:      aws.Int32(30),
		MemorySize:   aws.Int32(512),
	}
	if len(s.env) > 0 {
		in.Environment = &types.Environment{Variables: s.env}
	}
	if _, err := h.sdk.CreateFunction(ctx, in); err != nil {
		return fmt.Errorf("create %s: %w", name, err)
	}
	w := lambda.NewFunctionActiveV2Waiter(h.sdk, func(o *lambda.FunctionActiveV2WaiterOptions) {
		o.MinDelay = 10 * time.Millisecond
		o.MaxDelay = 100 * time.Millisecond
	})
	if err := w.Wait(ctx, &lambda.GetFunctionInput{FunctionName: aws.String(name)}, readyLimit); err != nil {
		return fmt.Errorf("wait for %s to be Active: %w", name, err)
	}
	return nil
}

func (h *harness) deleteFunction(ctx context.Context, name string) error {
	if _, err := h.sdk.DeleteFunction(ctx, &lambda.DeleteFunctionInput{FunctionName: aws.String(name)}); err != nil {
		return fmt.Errorf("delete %s: %w", name, err)
	}
	return nil
}

// evict stops the function's warm instances through lamb's own endpoint, so
// that its next Invoke is a cold start.
func (h *harness) evict(ctx context.Context, name string) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, h.lambURL+"/_lamb/functions/"+name+"/evict", nil)
	if err != nil {
		return err
	}
	resp, err := h.httpc.Do(req)
	if err != nil {
		return fmt.Errorf("evict %s: %w", name, err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("evict %s: %s: %s", name, resp.Status, body)
	}
	return nil
}

// instances counts the function's warm instances (GET /_lamb/instances).
func (h *harness) instances(ctx context.Context, name string) (int, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, h.lambURL+"/_lamb/instances", nil)
	if err != nil {
		return 0, err
	}
	resp, err := h.httpc.Do(req)
	if err != nil {
		return 0, fmt.Errorf("instances: %w", err)
	}
	defer resp.Body.Close()
	var rows []struct {
		Function string `json:"function"`
	}
	if resp.StatusCode != http.StatusOK {
		return 0, fmt.Errorf("instances: %s", resp.Status)
	}
	if err := json.NewDecoder(resp.Body).Decode(&rows); err != nil {
		return 0, fmt.Errorf("instances: %w", err)
	}
	n := 0
	for _, r := range rows {
		if r.Function == name {
			n++
		}
	}
	return n, nil
}

// codeZip is the deployment package: the Go echo as `bootstrap`, or the
// python echo's handler.py.
func (h *harness) codeZip(python bool) ([]byte, error) {
	name, src, mode := "bootstrap", h.echoBin, os.FileMode(0o755)
	if python {
		name, src, mode = "handler.py", filepath.Join("testdata", "pyecho", "handler.py"), 0o644
	}
	body, err := os.ReadFile(src)
	if err != nil {
		return nil, fmt.Errorf("code: %w", err)
	}
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	fh := &zip.FileHeader{Name: name, Method: zip.Deflate}
	fh.SetMode(mode)
	w, err := zw.CreateHeader(fh)
	if err == nil {
		_, err = w.Write(body)
	}
	if err == nil {
		err = zw.Close()
	}
	if err != nil {
		return nil, fmt.Errorf("zip %s: %w", name, err)
	}
	return buf.Bytes(), nil
}

// errFunction is a function error (X-Amz-Function-Error) or a wrong echo.
var errFunction = errors.New("function did not echo its event")

// invoke sends one RequestResponse invoke and checks the echo: the same
// client code serves lamb and the RIE.
func invoke(ctx context.Context, c *http.Client, url string, payload []byte) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(payload))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := c.Do(req)
	if err != nil {
		return fmt.Errorf("invoke: %w", err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return fmt.Errorf("invoke: read response: %w", err)
	}
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("invoke: %s: %s", resp.Status, body)
	}
	if fe := resp.Header.Get("X-Amz-Function-Error"); fe != "" || !sameJSON(body, payload) {
		return fmt.Errorf("%w: error %q, body %.200s", errFunction, fe, body)
	}
	return nil
}

// startRIE runs AWS's emulator on the Go echo bootstrap on free ports and
// waits until it accepts connections. It starts the bootstrap lazily, on the
// first invoke.
func (h *harness) startRIE(ctx context.Context, logName string) (*proc, string, error) {
	addr, err := freeAddr()
	if err != nil {
		return nil, "", err
	}
	rapi, err := freeAddr()
	if err != nil {
		return nil, "", err
	}
	p, err := startProc(filepath.Join(h.dir, logName), h.dir, []string{"AWS_LAMBDA_FUNCTION_NAME=" + fnEchoGo},
		h.rieBin, "--runtime-interface-emulator-address", addr, "--runtime-api-address", rapi, h.echoBin)
	if err != nil {
		return nil, "", err
	}
	if err := p.waitReady(ctx, func() bool { return canDial(addr) }); err != nil {
		p.stop()
		return nil, "", fmt.Errorf("aws-lambda-rie: %w", err)
	}
	return p, "http://" + addr + riePath, nil
}

// warmRIE returns the URL of the long-lived RIE, starting it on first use.
func (h *harness) warmRIE(ctx context.Context) (string, error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.rie == nil {
		p, url, err := h.startRIE(ctx, "rie-warm.log")
		if err != nil {
			return "", err
		}
		h.rie, h.rieURL = p, url
	}
	return h.rieURL, nil
}

// proc is a child process with its output in a log file. Its one goroutine
// waits for the exit and closes done.
type proc struct {
	cmd     *exec.Cmd
	logPath string
	done    chan struct{}
}

func startProc(logPath, dir string, env []string, bin string, args ...string) (*proc, error) {
	f, err := os.Create(logPath)
	if err != nil {
		return nil, fmt.Errorf("log file: %w", err)
	}
	cmd := exec.Command(bin, args...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), env...)
	cmd.Stdout, cmd.Stderr = f, f
	// Its own process group, so that stop also reaches the bootstraps it runs.
	ownProcessGroup(cmd)
	if err := cmd.Start(); err != nil {
		f.Close()
		return nil, fmt.Errorf("start %s: %w", filepath.Base(bin), err)
	}
	p := &proc{cmd: cmd, logPath: logPath, done: make(chan struct{})}
	go func() {
		_ = cmd.Wait()
		f.Close()
		close(p.done)
	}()
	return p, nil
}

// waitReady polls ready until it holds, the process exits or a deadline passes.
func (p *proc) waitReady(ctx context.Context, ready func() bool) error {
	ctx, cancel := context.WithTimeout(ctx, readyLimit)
	defer cancel()
	tick := time.NewTicker(2 * time.Millisecond)
	defer tick.Stop()
	for !ready() {
		select {
		case <-p.done:
			return fmt.Errorf("exited before it was ready:\n%s", p.logTail())
		case <-ctx.Done():
			return fmt.Errorf("not ready: %w\n%s", ctx.Err(), p.logTail())
		case <-tick.C:
		}
	}
	return nil
}

// stop ends the process group: SIGTERM, then SIGKILL after 10 s.
func (p *proc) stop() {
	pgid := p.cmd.Process.Pid
	_ = signalGroup(pgid, syscall.SIGTERM)
	select {
	case <-p.done:
	case <-time.After(10 * time.Second):
		_ = signalGroup(pgid, syscall.SIGKILL)
		<-p.done
	}
	// A bootstrap left behind in the group (the RIE does not wait for it).
	_ = signalGroup(pgid, syscall.SIGKILL)
}

func (p *proc) logTail() string {
	b, _ := os.ReadFile(p.logPath)
	if len(b) > 4096 {
		b = b[len(b)-4096:]
	}
	return string(b)
}

func freeAddr() (string, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", fmt.Errorf("free port: %w", err)
	}
	defer ln.Close()
	return ln.Addr().String(), nil
}

func canDial(addr string) bool {
	c, err := net.DialTimeout("tcp", addr, time.Second)
	if err != nil {
		return false
	}
	c.Close()
	return true
}

func httpOK(c *http.Client, url string) bool {
	resp, err := c.Get(url)
	if err != nil {
		return false
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, resp.Body)
	return resp.StatusCode == http.StatusOK
}

// sameJSON reports whether a and b are the same JSON value; runtimes differ in
// spacing (python's json.dumps adds some).
func sameJSON(a, b []byte) bool {
	if bytes.Equal(a, b) {
		return true
	}
	var va, vb any
	if json.Unmarshal(a, &va) != nil || json.Unmarshal(b, &vb) != nil {
		return false
	}
	return reflect.DeepEqual(va, vb)
}

// compactJSON is the payload as aws-lambda-go re-encodes it, so that the
// echo compares byte for byte.
func compactJSON(s string) []byte {
	var buf bytes.Buffer
	if err := json.Compact(&buf, []byte(s)); err != nil {
		panic(err) // only called on constants
	}
	return buf.Bytes()
}
