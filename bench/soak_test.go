package bench

import (
	"context"
	"errors"
	"fmt"
	"io"
	"maps"
	"math/rand/v2"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	"github.com/aws/aws-sdk-go-v2/service/lambda/types"
	"github.com/aws/smithy-go"

	"github.com/lambhq/lamb/engine/backend/process"
)

// TestSoak runs thousands of invocations, sync and async, over several
// functions on the process backend — and, with LAMB_SOAK_ENGINES, on Docker
// and Podman engines of its own — while instances are killed behind lamb's
// back, lamb itself is killed with SIGKILL and restarted on its data dir, and
// the container engines restart. It prints, per backend, sync calls
// answered, Event invocations accepted and run (lost must be 0; duplicates —
// at least once, as AWS promises — are counted), what is left after the run
// (must be nothing) and lamb's RSS over time.
//
// The default test run soaks the process backend for 40 s. LAMB_SOAK=10m
// soaks longer and adds Docker and Podman (outside the default run:
// go test ./bench -run Soak -timeout 30m); LAMB_SOAK_ENGINES=docker,podman
// (or "none") picks the engines. A private engine needs root, dockerd or
// podman, and the runtime images named by LAMB_TEST_IMAGES in the default
// Docker engine (scripts/engines.sh builds them).
func TestSoak(t *testing.T) {
	dur := 40 * time.Second
	engines := ""
	if v := os.Getenv("LAMB_SOAK"); v != "" {
		d, err := time.ParseDuration(v)
		if err != nil {
			t.Fatalf("LAMB_SOAK=%q: %v", v, err)
		}
		dur, engines = d, "docker,podman"
	}
	if v, ok := os.LookupEnv("LAMB_SOAK_ENGINES"); ok {
		engines = strings.ReplaceAll(v, "none", "")
	}
	ctx := context.Background()
	tmp := t.TempDir()
	// LAMB_SOAK_PPROF=DIR: lamb serves pprof, and the soak saves lamb's heap
	// profile with every RSS sample (DIR/BACKEND-SECONDS.heap, for go tool
	// pprof) to tell lamb's Go heap from the rest of its RSS.
	pprofDir := os.Getenv("LAMB_SOAK_PPROF")
	build := []string{"build", "-o", filepath.Join(tmp, "lamb")}
	if pprofDir != "" {
		if err := os.MkdirAll(pprofDir, 0o755); err != nil {
			t.Fatal(err)
		}
		build = append(build, "-tags", "pprof")
	}
	bin, err := binary(ctx, "LAMB_BENCH_LAMB", filepath.Join(tmp, "lamb"), nil,
		"go", append(build, "github.com/lambhq/lamb/cmd/lamb")...)
	if err != nil {
		t.Fatal(err)
	}
	soaks := []*soak{{t: t, backend: "process", bin: bin, dataDir: filepath.Join(tmp, "process", "data"),
		clients: []string{"soak-echo", "soak-echo", "soak-slow", "soak-node"}, asyncEvery: 20 * time.Millisecond}}
	for _, kind := range strings.FieldsFunc(engines, func(r rune) bool { return r == ',' }) {
		// Engines of the soak's own, so that restarting them touches no
		// other test. Their state is outside t.TempDir (0700, long paths).
		dir, err := os.MkdirTemp("", "lamb-soak-"+kind+"-")
		if err != nil {
			t.Fatal(err)
		}
		eng, err := startPrivateEngine(ctx, kind, dir, os.Getenv("LAMB_TEST_IMAGES"))
		if err != nil {
			os.RemoveAll(dir)
			t.Fatalf("LAMB_SOAK_ENGINES has %s: %v", kind, err)
		}
		t.Cleanup(eng.close)
		soaks = append(soaks, &soak{t: t, backend: kind, engine: eng, bin: bin, dataDir: filepath.Join(tmp, kind, "data"),
			clients: []string{"soak-echo", "soak-node"}, asyncEvery: 50 * time.Millisecond})
	}
	for _, s := range soaks {
		if err := os.MkdirAll(filepath.Dir(s.dataDir), 0o700); err != nil {
			t.Fatal(err)
		}
		if pprofDir != "" {
			if s.pprofAddr, err = freeAddr(); err != nil {
				t.Fatal(err)
			}
			s.pprofDir = pprofDir
		}
		s.startRecorder()
		s.start(ctx)
		defer s.stopLamb()
		s.createFunctions(ctx)
	}

	runCtx, stop := context.WithTimeout(ctx, dur)
	defer stop()
	var wg sync.WaitGroup
	for _, s := range soaks {
		for i, fn := range s.clients {
			wg.Go(func() { s.syncClient(runCtx, fn, i) })
		}
		wg.Go(func() { s.asyncClient(runCtx) })
		wg.Go(func() { s.chaos(runCtx) })
		wg.Go(func() { s.sampleRSS(runCtx) })
	}
	wg.Wait()
	for _, s := range soaks {
		s.check(dur)
	}
}

// check waits for the accepted events to run, stops lamb and reports.
func (s *soak) check(dur time.Duration) {
	t := s.t
	// Every accepted event runs, at least once, within 90 s of the end.
	var ran map[string]int
	deadline := time.Now().Add(90 * time.Second)
	for {
		ran = s.ranEvents()
		if len(missing(s.acceptedIDs(), ran)) == 0 || time.Now().After(deadline) {
			break
		}
		time.Sleep(200 * time.Millisecond)
	}
	lost := missing(s.acceptedIDs(), ran)
	dups := 0
	for _, n := range ran {
		dups += max(n-1, 0)
	}
	s.stopLamb()
	left := s.leftovers()

	var rss, split []string
	for i, r := range s.rss {
		rss = append(rss, fmt.Sprintf("%.0fs:%dMB", r.at.Seconds(), r.kb/1024))
		// "|" marks a restart: each lamb process is sampled on its own.
		mark := ""
		if i > 0 && r.pid != s.rss[i-1].pid {
			mark = "| "
		}
		heap := ""
		if r.heapKB > 0 {
			heap = fmt.Sprintf("/heap %d", r.heapKB/1024)
		}
		split = append(split, fmt.Sprintf("%s%.0fs:%d+%d%s", mark, r.at.Seconds(), r.anonKB/1024, r.fileKB/1024, heap))
	}
	report := fmt.Sprintf(`soak for %s on the %s backend:
  sync calls          %d answered (%d results, %d AWS errors), %d unanswered outside lamb's restarts, %d cut by a kill -9 of lamb
  Event invocations   %d accepted, %d run, %d lost, %d duplicates
  chaos               %d instances killed behind lamb's back, %d kill -9 and restarts of lamb, %d engine restarts
  left after the run  %d (%s)
  lamb RSS            %s
  anon+file MB        %s`,
		dur, s.backend, s.results.Load()+s.awsErrors.Load(), s.results.Load(), s.awsErrors.Load(), s.unanswered.Load(), s.cut.Load(),
		len(s.acceptedIDs()), len(ran), len(lost), dups,
		s.instanceKills.Load(), s.restarts.Load(), s.engineRestarts.Load(), len(left), strings.Join(left, ", "), strings.Join(rss, " "), strings.Join(split, " "))
	t.Log(report)
	fmt.Println(report) // for bench/run.sh and people running it by hand
	if s.awsErrors.Load() > 0 {
		t.Logf("%s: AWS errors by kind: %v", s.backend, s.errorKinds())
	}
	if t.Failed() {
		// The data dir is t.TempDir's: keep lamb's log for a look.
		if b, err := os.ReadFile(filepath.Join(filepath.Dir(s.dataDir), "lamb.log")); err == nil {
			keep := filepath.Join(os.TempDir(), "lamb-soak-"+s.backend+".log")
			if os.WriteFile(keep, b, 0o600) == nil {
				t.Logf("%s: lamb's log kept in %s", s.backend, keep)
			}
		}
	}
	if len(lost) > 0 {
		t.Errorf("%s: %d Event invocations accepted with 202 never ran: %v", s.backend, len(lost), lost[:min(len(lost), 10)])
	}
	if n := s.unanswered.Load(); n > 0 {
		t.Errorf("%s: %d sync calls got neither a result nor an AWS error while lamb was up (last: %v)", s.backend, n, s.lastUnanswered.Load())
	}
	if len(left) > 0 {
		t.Errorf("%s: left after lamb stopped: %v", s.backend, left)
	}
	if s.results.Load() == 0 || len(ran) == 0 || s.restarts.Load() == 0 {
		t.Errorf("%s: the soak did too little to mean anything: %d results, %d events run, %d restarts",
			s.backend, s.results.Load(), len(ran), s.restarts.Load())
	}
}

type rssSample struct {
	at                 time.Duration
	pid                int
	kb, anonKB, fileKB int // VmRSS, RssAnon, RssFile
	heapKB             int // Go's HeapInuse, with LAMB_SOAK_PPROF
}

// soak is one soak run: lamb (restarted in place), its clients and chaos.
type soak struct {
	t            *testing.T
	backend      string         // process, docker or podman
	engine       *privateEngine // docker and podman: the soak's own engine
	bin, dataDir string
	clients      []string      // one sync client per entry, invoking that function
	asyncEvery   time.Duration // between Event invocations
	began        time.Time

	// Event runs report their ids to recURL (POST /ran?id=...).
	recURL string
	recMu  sync.Mutex
	ran    map[string]int

	mu       sync.Mutex // guards lamb, sdk, accepted, kinds
	lamb     *proc
	sdk      *lambda.Client
	url      string
	accepted []string
	kinds    map[string]int // AWS errors by code and message
	down     atomic.Bool    // lamb is being killed and restarted

	results, awsErrors, unanswered, cut atomic.Int64
	lastUnanswered                      atomic.Value
	instanceKills, restarts             atomic.Int64
	engineRestarts                      atomic.Int64
	rss                                 []rssSample

	// With LAMB_SOAK_PPROF=DIR, lamb (built with -tags pprof) serves pprof
	// at pprofAddr, and each RSS sample saves its heap profile in pprofDir.
	pprofAddr, pprofDir string
}

func (s *soak) start(ctx context.Context) {
	s.t.Helper()
	if s.url == "" {
		addr, err := freeAddr()
		if err != nil {
			s.t.Fatal(err)
		}
		s.url = "http://" + addr
		s.began = time.Now()
	}
	var env []string
	if s.engine != nil {
		env = append(s.engine.env(), "LAMB_RUNTIME_IMAGES="+s.engine.images)
	}
	if s.pprofAddr != "" {
		env = append(env, "LAMB_PPROF_ADDR="+s.pprofAddr)
	}
	p, err := startProc(filepath.Join(filepath.Dir(s.dataDir), "lamb.log"), filepath.Dir(s.dataDir), env, s.bin,
		"serve", "--backend", s.backend, "--addr", strings.TrimPrefix(s.url, "http://"), "--data-dir", s.dataDir,
		"--async-retry-delay", "1s", "--max-instances", "4")
	if err != nil {
		s.t.Fatal(err)
	}
	httpc := &http.Client{Timeout: 30 * time.Second}
	if err := p.waitReady(ctx, func() bool { return httpOK(httpc, s.url+"/_lamb/health") }); err != nil {
		s.t.Fatalf("lamb serve: %v", err)
	}
	sdk := lambda.New(lambda.Options{Region: "us-east-1", BaseEndpoint: aws.String(s.url),
		Credentials: aws.AnonymousCredentials{}, RetryMaxAttempts: 1,
		HTTPClient: &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 8}, Timeout: 30 * time.Second}})
	s.mu.Lock()
	s.lamb, s.sdk = p, sdk
	s.mu.Unlock()
}

// awsError counts an answer that is an AWS error or a function error.
func (s *soak) awsError(kind string) {
	s.awsErrors.Add(1)
	if len(kind) > 160 {
		kind = kind[:160]
	}
	s.mu.Lock()
	if s.kinds == nil {
		s.kinds = map[string]int{}
	}
	s.kinds[kind]++
	s.mu.Unlock()
}

func (s *soak) errorKinds() map[string]int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return maps.Clone(s.kinds)
}

func (s *soak) client() (*lambda.Client, *proc) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.sdk, s.lamb
}

func (s *soak) stopLamb() {
	_, p := s.client()
	select {
	case <-p.done:
	default:
		p.stop()
	}
}

func (s *soak) createFunctions(ctx context.Context) {
	s.t.Helper()
	sdk, _ := s.client()
	py := func(src string) []byte {
		z, err := zipFiles(map[string]string{"handler.py": src})
		if err != nil {
			s.t.Fatal(err)
		}
		return z
	}
	node, err := zipFiles(map[string]string{"index.js": "exports.handler = async (e) => e;\n"})
	if err != nil {
		s.t.Fatal(err)
	}
	fns := []*lambda.CreateFunctionInput{
		{FunctionName: aws.String("soak-echo"), Runtime: types.RuntimePython312, Handler: aws.String("handler.handler"),
			Code: &types.FunctionCode{ZipFile: py("def handler(e, c):\n    return e\n")}},
		{FunctionName: aws.String("soak-slow"), Runtime: types.RuntimePython312, Handler: aws.String("handler.handler"),
			Code: &types.FunctionCode{ZipFile: py("import time\n\ndef handler(e, c):\n    time.sleep(0.05)\n    return e\n")}},
		{FunctionName: aws.String("soak-node"), Runtime: types.RuntimeNodejs22x, Handler: aws.String("index.handler"),
			Code: &types.FunctionCode{ZipFile: node}},
		{FunctionName: aws.String("soak-record"), Runtime: types.RuntimePython312, Handler: aws.String("handler.handler"),
			Code: &types.FunctionCode{ZipFile: py("import os, urllib.request\n\ndef handler(e, c):\n" +
				"    urllib.request.urlopen(urllib.request.Request(os.environ['REC'] + '?id=' + e['id'], method='POST'), timeout=5).read()\n    return e\n")},
			Environment: &types.Environment{Variables: map[string]string{"REC": s.recURL}}},
	}
	for _, in := range fns {
		in.Role = aws.String("arn:aws:iam::000000000000:role/soak")
		in.Timeout = aws.Int32(10)
		if _, err := sdk.CreateFunction(ctx, in); err != nil {
			s.t.Fatalf("create %s: %v", *in.FunctionName, err)
		}
		if err := lambda.NewFunctionActiveV2Waiter(sdk).Wait(ctx, &lambda.GetFunctionInput{FunctionName: in.FunctionName}, time.Minute); err != nil {
			s.t.Fatal(err)
		}
	}
}

// syncClient invokes fn in a loop and checks each answer.
func (s *soak) syncClient(ctx context.Context, fn string, id int) {
	for n := 0; ctx.Err() == nil; n++ {
		if s.down.Load() {
			time.Sleep(20 * time.Millisecond)
			continue
		}
		sdk, p := s.client()
		payload := fmt.Sprintf(`{"client":%d,"n":%d}`, id, n)
		out, err := sdk.Invoke(ctx, &lambda.InvokeInput{FunctionName: aws.String(fn), Payload: []byte(payload)})
		var apiErr smithy.APIError
		switch {
		case err == nil && out.FunctionError == nil && sameJSON(out.Payload, []byte(payload)):
			s.results.Add(1)
		case err == nil && out.FunctionError != nil:
			s.awsError(*out.FunctionError) // e.g. Runtime.ExitError: its runtime was killed mid-call
		case errors.As(err, &apiErr):
			s.awsError(apiErr.ErrorCode() + ": " + apiErr.ErrorMessage())
		case ctx.Err() != nil:
		case s.down.Load() || processDone(p):
			s.cut.Add(1) // in flight when lamb was killed
		default:
			if err == nil {
				err = fmt.Errorf("payload %s, want %s", out.Payload, payload)
			}
			s.unanswered.Add(1)
			s.lastUnanswered.Store(err.Error())
		}
	}
}

// asyncClient sends Event invocations at about 50 a second, keeping the ids
// lamb acknowledged with 202.
func (s *soak) asyncClient(ctx context.Context) {
	tick := time.NewTicker(s.asyncEvery)
	defer tick.Stop()
	for n := 0; ; n++ {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
		if s.down.Load() {
			continue
		}
		sdk, _ := s.client()
		id := "ev-" + strconv.Itoa(n)
		out, err := sdk.Invoke(ctx, &lambda.InvokeInput{FunctionName: aws.String("soak-record"),
			InvocationType: types.InvocationTypeEvent, Payload: []byte(`{"id":"` + id + `"}`)})
		if err == nil && out.StatusCode == http.StatusAccepted {
			s.mu.Lock()
			s.accepted = append(s.accepted, id)
			s.mu.Unlock()
		}
	}
}

// chaos kills an instance behind lamb's back every second or so (a runtime
// process, or a container through its engine), lamb itself (SIGKILL, then a
// restart on the same data dir) every 10 s, and restarts a container engine
// every 25 s.
func (s *soak) chaos(ctx context.Context) {
	tick := time.NewTicker(time.Second)
	defer tick.Stop()
	for i := 1; ; i++ {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
		_, p := s.client()
		switch {
		case i%10 == 0:
			s.down.Store(true)
			p.cmd.Process.Kill()
			<-p.done
			s.start(context.Background())
			s.restarts.Add(1)
			s.down.Store(false)
		case s.engine != nil && i%25 == 5:
			if err := s.engine.restart(ctx); err != nil {
				if ctx.Err() == nil {
					s.t.Errorf("restart %s: %v", s.backend, err)
				}
				return
			}
			s.engineRestarts.Add(1)
		case s.engine != nil:
			if s.engine.killInstance(ctx) {
				s.instanceKills.Add(1)
			}
		default:
			if kids := children(p.cmd.Process.Pid); len(kids) > 0 {
				if killPID(kids[rand.IntN(len(kids))]) == nil {
					s.instanceKills.Add(1)
				}
			}
		}
	}
}

func (s *soak) sampleRSS(ctx context.Context) {
	tick := time.NewTicker(5 * time.Second)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
		_, p := s.client()
		pid := p.cmd.Process.Pid
		if kb := statusKB(pid, "VmRSS"); kb > 0 {
			r := rssSample{at: time.Since(s.began), pid: pid, kb: kb, anonKB: statusKB(pid, "RssAnon"), fileKB: statusKB(pid, "RssFile")}
			if s.pprofAddr != "" {
				r.heapKB = s.saveHeap(ctx, r.at)
			}
			s.rss = append(s.rss, r)
		}
	}
}

func (s *soak) acceptedIDs() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.accepted)
}

// startRecorder serves the record of Event runs: soak-record POSTs each
// event's id. Container functions reach it on their private bridge's
// gateway, the process backend's on loopback.
func (s *soak) startRecorder() {
	// Podman creates its bridge with its first container: the recorder
	// listens on every address and functions call the bridge's gateway.
	bind, host := "127.0.0.1", "127.0.0.1"
	if s.engine != nil {
		bind = ""
		if host = privateBridges[s.backend].gw; host == "" {
			host, _, _ = strings.Cut(privateBridges[s.backend].cidr, "/")
		}
	}
	ln, err := net.Listen("tcp", net.JoinHostPort(bind, "0"))
	if err != nil {
		s.t.Fatal(err)
	}
	_, port, _ := net.SplitHostPort(ln.Addr().String())
	s.ran = map[string]int{}
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.recMu.Lock()
		s.ran[r.URL.Query().Get("id")]++
		s.recMu.Unlock()
	})}
	go srv.Serve(ln) // ends at the cleanup's Close
	s.t.Cleanup(func() { srv.Close() })
	s.recURL = "http://" + net.JoinHostPort(host, port) + "/ran"
}

// ranEvents counts the runs of each event id.
func (s *soak) ranEvents() map[string]int {
	s.recMu.Lock()
	defer s.recMu.Unlock()
	return maps.Clone(s.ran)
}

// leftovers lists what outlives the stopped lamb: on the process backend
// processes running from its work dir and instance directories, on an
// engine every container lamb labelled.
func (s *soak) leftovers() []string {
	if s.engine != nil {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		var left []string
		for _, id := range s.engine.containers(ctx, "lamb.managed") {
			left = append(left, "container "+id)
		}
		return left
	}
	work, err := process.WorkDirFor(s.dataDir)
	if err != nil {
		return []string{err.Error()}
	}
	var left []string
	ents, _ := os.ReadDir("/proc")
	for _, e := range ents {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		cmd, _ := os.ReadFile("/proc/" + e.Name() + "/cmdline")
		cwd, _ := os.Readlink("/proc/" + e.Name() + "/cwd")
		if strings.Contains(string(cmd), work) || strings.HasPrefix(cwd, work) {
			if processAlive(pid) {
				left = append(left, fmt.Sprintf("process %d (%s)", pid, strings.ReplaceAll(string(cmd), "\x00", " ")))
			}
		}
	}
	inst, _ := os.ReadDir(filepath.Join(work, "instances"))
	for _, e := range inst {
		left = append(left, "instance dir "+e.Name())
	}
	return left
}

func missing(want []string, got map[string]int) []string {
	var out []string
	for _, id := range want {
		if got[id] == 0 {
			out = append(out, id)
		}
	}
	return out
}

func processDone(p *proc) bool {
	select {
	case <-p.done:
		return true
	default:
		return false
	}
}

// children lists the pids whose parent is pid.
func children(pid int) []int {
	var out []int
	ents, _ := os.ReadDir("/proc")
	for _, e := range ents {
		n, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		b, err := os.ReadFile("/proc/" + e.Name() + "/stat")
		if err != nil {
			continue
		}
		_, rest, ok := strings.Cut(string(b), ") ")
		f := strings.Fields(rest)
		if ok && len(f) > 1 && f[1] == strconv.Itoa(pid) && f[0] != "Z" {
			out = append(out, n)
		}
	}
	return out
}

// processAlive says whether pid runs (a zombie has exited).
func processAlive(pid int) bool {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return false
	}
	_, rest, _ := strings.Cut(string(b), ") ")
	return !strings.HasPrefix(rest, "Z")
}

// statusKB reads a kB field (VmRSS, RssAnon, RssFile) of /proc/PID/status.
func statusKB(pid int, field string) int {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/status")
	if err != nil {
		return 0
	}
	for _, l := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(l, field+":"); ok {
			kb, _ := strconv.Atoi(strings.TrimSuffix(strings.TrimSpace(v), " kB"))
			return kb
		}
	}
	return 0
}

// saveHeap saves lamb's heap profile, taken at, in s.pprofDir and returns
// Go's HeapInuse in kB (0 when lamb does not answer).
func (s *soak) saveHeap(ctx context.Context, at time.Duration) int {
	get := func(q string) []byte {
		rctx, cancel := context.WithTimeout(ctx, 5*time.Second)
		defer cancel()
		req, err := http.NewRequestWithContext(rctx, http.MethodGet, "http://"+s.pprofAddr+"/debug/pprof/heap"+q, nil)
		if err != nil {
			return nil
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			return nil
		}
		defer resp.Body.Close()
		b, err := io.ReadAll(resp.Body)
		if err != nil || resp.StatusCode != http.StatusOK {
			return nil
		}
		return b
	}
	if b := get(""); b != nil {
		_ = os.WriteFile(filepath.Join(s.pprofDir, fmt.Sprintf("%s-%03.0f.heap", s.backend, at.Seconds())), b, 0o644)
	}
	for _, l := range strings.Split(string(get("?debug=1")), "\n") {
		if v, ok := strings.CutPrefix(l, "# HeapInuse = "); ok {
			n, _ := strconv.Atoi(strings.TrimSpace(v))
			return n / 1024
		}
	}
	return 0
}
