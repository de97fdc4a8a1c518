package e2e

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	"github.com/aws/aws-sdk-go-v2/service/lambda/types"
	"github.com/coder/websocket"
	"github.com/docker/docker/api/types/container"
	"github.com/docker/docker/api/types/filters"
	"github.com/docker/go-connections/nat"
	"github.com/go-delve/delve/service/api"
	"github.com/go-delve/delve/service/rpc2"
)

// Debugger tests (docs/debugging.md): lamb serve --debug FN=PORT
// --debug-wait, a real debugger client attaches, sets a breakpoint in the
// handler, the invoke stops there with the event in scope, resume, and the
// invoke answers. Code comes from a folder (hot-reload), so the test knows
// the handler's path as a user's editor does.

// debugLamb starts lamb debugging fn on a free port and returns the port;
// on Docker when docker is set, with the runtime images of
// LAMB_TEST_DEBUG_IMAGES (python=IMAGE,nodejs=IMAGE) when set, else the
// test images.
func debugLamb(t *testing.T, fn string, env []string, docker bool, extra ...string) (*server, int) {
	t.Helper()
	port, err := strconv.Atoi(freeAddr(t)[len("127.0.0.1:"):])
	if err != nil {
		t.Fatal(err)
	}
	args := []string{"--debug", fmt.Sprintf("%s=%d", fn, port), "--debug-wait"}
	args = append(args, extra...)
	addr := freeAddr(t)
	if docker {
		e := containerEngines[0]
		host := os.Getenv(e.hostEnv)
		if host == "" {
			host = e.defHost
		}
		cli := engineClient(t, e, host)
		images := engineImages(t, e)
		if v := os.Getenv("LAMB_TEST_DEBUG_IMAGES"); v != "" {
			for _, kv := range strings.Split(v, ",") {
				if k, img, ok := strings.Cut(kv, "="); ok {
					images[k] = img
				}
			}
		}
		args = append(args, "--backend", "docker")
		for _, fam := range []string{"python", "nodejs", "provided"} {
			args = append(args, "--runtime-image", fam+"="+images[fam])
		}
		removeAtEnd(t, cli, "ephemeral-"+addr)
		env = append(env, "LAMB_CONTAINER_HOST="+host)
	}
	return startLambEnv(t, addr, "", env, args...), port
}

// invokeAsync invokes fn in the background; the answer arrives on the channel.
func invokeAsync(ctx context.Context, c *lambda.Client, fn, payload string) <-chan string {
	ch := make(chan string, 1)
	go func() {
		out, err := c.Invoke(ctx, &lambda.InvokeInput{FunctionName: aws.String(fn), Payload: []byte(payload)})
		switch {
		case err != nil:
			ch <- "error: " + err.Error()
		case out.FunctionError != nil:
			ch <- "function error: " + string(out.Payload)
		default:
			ch <- string(out.Payload)
		}
	}()
	return ch
}

// dial connects to the debugger's port once the instance opened it.
func dial(t *testing.T, port int, answer <-chan string) net.Conn {
	t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for {
		c, err := net.Dial("tcp", fmt.Sprintf("127.0.0.1:%d", port))
		if err == nil {
			return c
		}
		select {
		case a := <-answer:
			t.Fatalf("invoke ended before the debugger port opened: %s", a)
		case <-time.After(50 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			t.Fatalf("debugger port %d not open: %v", port, err)
		}
	}
}

func wantAnswer(t *testing.T, answer <-chan string, want string) {
	t.Helper()
	select {
	case a := <-answer:
		if !strings.Contains(a, want) {
			t.Fatalf("invoke answered %s, want %s", a, want)
		}
	case <-time.After(60 * time.Second):
		t.Fatal("invoke did not answer after resume")
	}
}

func hotReloadCode(dir string) *types.FunctionCode {
	return &types.FunctionCode{S3Bucket: aws.String("hot-reload"), S3Key: aws.String(dir)}
}

// ---- Debug Adapter Protocol (debugpy)

type dapClient struct {
	t    *testing.T
	conn net.Conn
	r    *bufio.Reader
	seq  int
}

type dapMsg struct {
	Seq        int             `json:"seq"`
	Type       string          `json:"type"`
	Command    string          `json:"command,omitempty"`
	Event      string          `json:"event,omitempty"`
	RequestSeq int             `json:"request_seq,omitempty"`
	Success    bool            `json:"success,omitempty"`
	Message    string          `json:"message,omitempty"`
	Body       json.RawMessage `json:"body,omitempty"`
	Arguments  any             `json:"arguments,omitempty"`
}

func (d *dapClient) send(command string, args any) int {
	d.t.Helper()
	d.seq++
	data, _ := json.Marshal(dapMsg{Seq: d.seq, Type: "request", Command: command, Arguments: args})
	if _, err := fmt.Fprintf(d.conn, "Content-Length: %d\r\n\r\n%s", len(data), data); err != nil {
		d.t.Fatal(err)
	}
	return d.seq
}

func (d *dapClient) read() dapMsg {
	d.t.Helper()
	_ = d.conn.SetReadDeadline(time.Now().Add(60 * time.Second))
	n := -1
	for {
		line, err := d.r.ReadString('\n')
		if err != nil {
			d.t.Fatalf("DAP read: %v", err)
		}
		line = strings.TrimSpace(line)
		if line == "" {
			break
		}
		if v, ok := strings.CutPrefix(line, "Content-Length: "); ok {
			n, _ = strconv.Atoi(v)
		}
	}
	buf := make([]byte, n)
	if _, err := io.ReadFull(d.r, buf); err != nil {
		d.t.Fatalf("DAP read body: %v", err)
	}
	var m dapMsg
	if err := json.Unmarshal(buf, &m); err != nil {
		d.t.Fatalf("DAP message %s: %v", buf, err)
	}
	return m
}

// until reads messages until one matches (a response to seq, or an event).
func (d *dapClient) until(match func(dapMsg) bool) dapMsg {
	d.t.Helper()
	for {
		m := d.read()
		if m.Type == "response" && !m.Success {
			d.t.Fatalf("DAP %s failed: %s", m.Command, m.Message)
		}
		if match(m) {
			return m
		}
	}
}

func (d *dapClient) response(seq int, body any) {
	d.t.Helper()
	m := d.until(func(m dapMsg) bool { return m.Type == "response" && m.RequestSeq == seq })
	if body != nil {
		if err := json.Unmarshal(m.Body, body); err != nil {
			d.t.Fatal(err)
		}
	}
}

func TestDebugPythonProcess(t *testing.T) { testDebugPython(t, false, false) }
func TestDebugPythonDocker(t *testing.T)  { testDebugPython(t, true, false) }

// TestDebugConfigFile: --debug-config alone (no --debug, no --debug-wait):
// the function's entry, keyed by its qualified ARN, gives the port and
// wait: true; another function's entry is there too.
func TestDebugConfigFile(t *testing.T) { testDebugPython(t, false, true) }

// debugLambConfig starts lamb (process backend) with a --debug-config file
// debugging fn and returns the port.
func debugLambConfig(t *testing.T, fn string) (*server, int) {
	t.Helper()
	port, err := strconv.Atoi(freeAddr(t)[len("127.0.0.1:"):])
	if err != nil {
		t.Fatal(err)
	}
	other, err := strconv.Atoi(freeAddr(t)[len("127.0.0.1:"):])
	if err != nil {
		t.Fatal(err)
	}
	doc := fmt.Sprintf(`functions:
  other-function:
    debug-port: %d
  "arn:aws:lambda:us-east-1:123456789012:function:%s:$LATEST":
    debug-port: %d
    wait: true
`, other, fn, port)
	file := filepath.Join(t.TempDir(), "debug.yaml")
	if err := os.WriteFile(file, []byte(doc), 0o644); err != nil {
		t.Fatal(err)
	}
	return startLambEnv(t, freeAddr(t), "", nil, "--debug-config", file), port
}
func TestDebugNodeProcess(t *testing.T) { testDebugNode(t, false) }
func TestDebugNodeDocker(t *testing.T)  { testDebugNode(t, true) }

// dialDAP connects and initializes a DAP session. Docker's proxy accepts
// on the published port before debugpy listens in the container (and then
// resets): a session counts once initialize is answered.
func dialDAP(t *testing.T, port int, answer <-chan string) *dapClient {
	t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	init := map[string]any{"adapterID": "debugpy", "clientID": "lamb-e2e", "linesStartAt1": true, "columnsStartAt1": true, "pathFormat": "path"}
	for {
		conn := dial(t, port, answer)
		d := &dapClient{t: t, conn: conn, r: bufio.NewReader(conn)}
		data, _ := json.Marshal(dapMsg{Seq: 1, Type: "request", Command: "initialize", Arguments: init})
		d.seq = 1
		_ = conn.SetReadDeadline(time.Now().Add(5 * time.Second))
		if _, err := fmt.Fprintf(conn, "Content-Length: %d\r\n\r\n%s", len(data), data); err == nil {
			if line, err := d.r.ReadString('\n'); err == nil && strings.HasPrefix(line, "Content-Length") {
				d.r = bufio.NewReader(io.MultiReader(strings.NewReader(line), d.r))
				d.response(1, nil)
				return d
			}
		}
		conn.Close()
		if time.Now().After(deadline) {
			t.Fatal("debugpy did not answer initialize")
		}
		time.Sleep(100 * time.Millisecond)
	}
}

func testDebugPython(t *testing.T, docker, configFile bool) {
	dir := t.TempDir()
	app := filepath.Join(dir, "app.py")
	if err := os.WriteFile(app, []byte("def handler(event, context):\n    name = event['name']\n    return {'hello': name}\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	var s *server
	var port int
	if configFile {
		s, port = debugLambConfig(t, "pydebug")
	} else {
		s, port = debugLamb(t, "pydebug", nil, docker)
	}
	ctx := ctxT(t)
	c := s.client("us-east-1", "123456789012")
	createActive(ctx, t, c, &lambda.CreateFunctionInput{
		FunctionName: aws.String("pydebug"), Runtime: types.RuntimePython311, Role: aws.String(role),
		Handler: aws.String("app.handler"), Code: hotReloadCode(dir), Timeout: aws.Int32(1),
	}, time.Minute)
	answer := invokeAsync(ctx, c, "pydebug", `{"name":"dap"}`)
	d := dialDAP(t, port, answer)
	defer d.conn.Close()
	// As VS Code's pathMappings: the folder is /var/task in a container.
	remote := dir
	if docker {
		remote = "/var/task"
	}
	attach := d.send("attach", map[string]any{"justMyCode": false,
		"pathMappings": []map[string]string{{"localRoot": dir, "remoteRoot": remote}}})
	d.until(func(m dapMsg) bool { return m.Type == "event" && m.Event == "initialized" })
	var bps struct {
		Breakpoints []struct {
			Verified bool `json:"verified"`
		} `json:"breakpoints"`
	}
	d.response(d.send("setBreakpoints", map[string]any{"source": map[string]any{"path": app}, "breakpoints": []map[string]any{{"line": 3}}}), &bps)
	d.response(d.send("configurationDone", nil), nil)
	d.response(attach, nil)

	var stopped struct {
		Reason   string `json:"reason"`
		ThreadID int    `json:"threadId"`
	}
	m := d.until(func(m dapMsg) bool { return m.Type == "event" && m.Event == "stopped" })
	_ = json.Unmarshal(m.Body, &stopped)
	if stopped.Reason != "breakpoint" {
		t.Fatalf("stopped for %q, want breakpoint", stopped.Reason)
	}
	// Paused well beyond the function's 1 s timeout: the call must survive.
	time.Sleep(1500 * time.Millisecond)
	var st struct {
		StackFrames []struct {
			ID   int `json:"id"`
			Line int `json:"line"`
		} `json:"stackFrames"`
	}
	d.response(d.send("stackTrace", map[string]any{"threadId": stopped.ThreadID}), &st)
	if len(st.StackFrames) == 0 || st.StackFrames[0].Line != 3 {
		t.Fatalf("stack %+v, want line 3 on top", st.StackFrames)
	}
	var sc struct {
		Scopes []struct {
			VariablesReference int `json:"variablesReference"`
		} `json:"scopes"`
	}
	d.response(d.send("scopes", map[string]any{"frameId": st.StackFrames[0].ID}), &sc)
	var vars struct {
		Variables []struct {
			Name, Value string
		} `json:"variables"`
	}
	d.response(d.send("variables", map[string]any{"variablesReference": sc.Scopes[0].VariablesReference}), &vars)
	got := map[string]string{}
	for _, v := range vars.Variables {
		got[v.Name] = v.Value
	}
	if got["event"] != "{'name': 'dap'}" || got["name"] != "'dap'" {
		t.Fatalf("locals at the breakpoint: %v", got)
	}
	d.response(d.send("continue", map[string]any{"threadId": stopped.ThreadID}), nil)
	wantAnswer(t, answer, `{"hello": "dap"}`)
}

// ---- Chrome DevTools Protocol (node's inspector)

type cdpClient struct {
	t   *testing.T
	ctx context.Context
	ws  *websocket.Conn
	id  int
}

type cdpMsg struct {
	ID     int             `json:"id"`
	Method string          `json:"method"`
	Params json.RawMessage `json:"params"`
	Result json.RawMessage `json:"result"`
	Error  *struct {
		Message string `json:"message"`
	} `json:"error"`
}

func (c *cdpClient) call(method string, params any, result any) {
	c.t.Helper()
	c.id++
	id := c.id
	data, _ := json.Marshal(map[string]any{"id": id, "method": method, "params": params})
	if err := c.ws.Write(c.ctx, websocket.MessageText, data); err != nil {
		c.t.Fatal(err)
	}
	for {
		m := c.next()
		if m.ID != id {
			continue
		}
		if m.Error != nil {
			c.t.Fatalf("CDP %s: %s", method, m.Error.Message)
		}
		if result != nil {
			_ = json.Unmarshal(m.Result, result)
		}
		return
	}
}

func (c *cdpClient) next() cdpMsg {
	c.t.Helper()
	_, data, err := c.ws.Read(c.ctx)
	if err != nil {
		c.t.Fatalf("CDP read: %v", err)
	}
	var m cdpMsg
	_ = json.Unmarshal(data, &m)
	return m
}

func (c *cdpClient) event(method string) json.RawMessage {
	c.t.Helper()
	for {
		if m := c.next(); m.Method == method {
			return m.Params
		}
	}
}

func testDebugNode(t *testing.T, docker bool) {
	dir := t.TempDir()
	src := "export const handler = async (event) => {\n  const name = event.name;\n  return { hello: name };\n};\n"
	if err := os.WriteFile(filepath.Join(dir, "index.mjs"), []byte(src), 0o644); err != nil {
		t.Fatal(err)
	}
	s, port := debugLamb(t, "nodedebug", nil, docker)
	ctx := ctxT(t)
	c := s.client("us-east-1", "123456789012")
	createActive(ctx, t, c, &lambda.CreateFunctionInput{
		FunctionName: aws.String("nodedebug"), Runtime: types.RuntimeNodejs20x, Role: aws.String(role),
		Handler: aws.String("index.handler"), Code: hotReloadCode(dir), Timeout: aws.Int32(1),
	}, time.Minute)
	answer := invokeAsync(ctx, c, "nodedebug", `{"name":"cdp"}`)
	dial(t, port, answer).Close()

	// The inspector's target list names the websocket to attach to. Docker's
	// proxy accepts on the published port before the inspector listens in
	// the container (and then resets): ask until it answers.
	var resp *http.Response
	var err error
	for deadline := time.Now().Add(60 * time.Second); ; {
		if resp, err = http.Get(fmt.Sprintf("http://127.0.0.1:%d/json/list", port)); err == nil {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal(err)
		}
		time.Sleep(100 * time.Millisecond)
	}
	var targets []struct {
		WebSocketDebuggerURL string `json:"webSocketDebuggerUrl"`
	}
	err = json.NewDecoder(resp.Body).Decode(&targets)
	resp.Body.Close()
	if err != nil || len(targets) == 0 {
		t.Fatalf("inspector targets: %v %v", targets, err)
	}
	ws, _, err := websocket.Dial(ctx, targets[0].WebSocketDebuggerURL, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer ws.CloseNow()
	ws.SetReadLimit(64 << 20)
	cdp := &cdpClient{t: t, ctx: ctx, ws: ws}
	cdp.call("Runtime.enable", nil, nil)
	cdp.call("Debugger.enable", nil, nil)
	cdp.call("Debugger.setBreakpointByUrl", map[string]any{"urlRegex": `index\.mjs$`, "lineNumber": 2}, nil)
	cdp.call("Runtime.runIfWaitingForDebugger", nil, nil)

	var paused struct {
		CallFrames []struct {
			CallFrameID string `json:"callFrameId"`
			Location    struct {
				LineNumber int `json:"lineNumber"`
			} `json:"location"`
		} `json:"callFrames"`
		Reason string `json:"reason"`
	}
	_ = json.Unmarshal(cdp.event("Debugger.paused"), &paused)
	if len(paused.CallFrames) == 0 || paused.CallFrames[0].Location.LineNumber != 2 {
		t.Fatalf("paused at %+v, want line 3 of index.mjs", paused)
	}
	time.Sleep(1500 * time.Millisecond) // beyond the 1 s timeout
	var ev struct {
		Result struct {
			Value string `json:"value"`
		} `json:"result"`
	}
	cdp.call("Debugger.evaluateOnCallFrame", map[string]any{"callFrameId": paused.CallFrames[0].CallFrameID,
		"expression": "JSON.stringify({event, name})", "returnByValue": true}, &ev)
	if ev.Result.Value != `{"event":{"name":"cdp"},"name":"cdp"}` {
		t.Fatalf("event in scope: %q", ev.Result.Value)
	}
	cdp.call("Debugger.resume", nil, nil)
	wantAnswer(t, answer, `{"hello":"cdp"}`)
}

// ---- delve's JSON-RPC API (provided Go bootstraps)

// delveBin is dlv built by go install into a cache dir (never committed),
// static (CGO_ENABLED=0) so that it runs in any Linux container too.
func delveBin(t *testing.T) string {
	t.Helper()
	cache, err := os.UserCacheDir()
	if err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join(cache, "lamb-test", "dlv-v1.27.2-static")
	bin := filepath.Join(dir, "dlv")
	if _, err := os.Stat(bin); err == nil {
		return bin
	}
	cmd := exec.Command("go", "install", "github.com/go-delve/delve/cmd/dlv@v1.27.2")
	cmd.Env = append(os.Environ(), "GOBIN="+dir, "CGO_ENABLED=0")
	if out, err := cmd.CombinedOutput(); err != nil {
		need(t, "delve (go install github.com/go-delve/delve/cmd/dlv@v1.27.2: "+strings.TrimSpace(string(out))+")", false)
	}
	return bin
}

// dialDelve connects delve's JSON-RPC client once delve answers. Docker's
// proxy accepts on the published port before delve listens in the
// container (and then closes): a session counts once GetState is answered.
func dialDelve(t *testing.T, port int, answer <-chan string) *rpc2.RPCClient {
	t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for {
		conn := dial(t, port, answer)
		client := rpc2.NewClientFromConn(conn)
		_, err := client.GetState()
		if err == nil {
			return client
		}
		conn.Close()
		if time.Now().After(deadline) {
			t.Fatalf("delve did not answer GetState: %v", err)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

func TestDebugGoProcess(t *testing.T) { testDebugGo(t, false) }

// TestDebugGoDocker: dlv from lamb's host (--dlv) in a read-only volume,
// the bootstrap under dlv exec in the container, its port published on
// 127.0.0.1.
func TestDebugGoDocker(t *testing.T) { testDebugGo(t, true) }

func testDebugGo(t *testing.T, docker bool) {
	dlv := delveBin(t)
	dir := t.TempDir()
	bin := filepath.Join(dir, "bootstrap")
	build := exec.Command("go", "build", "-gcflags=all=-N -l", "-o", bin, "./testdata/godebug")
	build.Env = append(os.Environ(), "CGO_ENABLED=0")
	if docker {
		build.Env = append(build.Env, "GOOS=linux")
	}
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	var s *server
	var port int
	if docker {
		s, port = debugLamb(t, "godebug", nil, true, "--dlv", dlv)
	} else {
		s, port = debugLamb(t, "godebug", []string{"LAMB_DLV=" + dlv}, false)
	}
	ctx := ctxT(t)
	c := s.client("us-east-1", "123456789012")
	createActive(ctx, t, c, &lambda.CreateFunctionInput{
		FunctionName: aws.String("godebug"), Runtime: types.RuntimeProvidedal2023, Role: aws.String(role),
		Handler: aws.String("bootstrap"), Code: hotReloadCode(dir), Timeout: aws.Int32(1),
	}, time.Minute)
	answer := invokeAsync(ctx, c, "godebug", `{"name":"delve"}`)
	client := dialDelve(t, port, answer)
	defer client.Disconnect(false)
	if _, err := client.CreateBreakpoint(&api.Breakpoint{FunctionName: "main.handler"}); err != nil {
		t.Fatal(err)
	}
	st := <-client.Continue()
	if st.Err != nil || st.Exited || st.CurrentThread == nil || st.CurrentThread.Breakpoint == nil {
		t.Fatalf("not stopped at the breakpoint: %+v", st)
	}
	if docker {
		checkDelveContainer(t, "godebug", port)
	}
	time.Sleep(1500 * time.Millisecond) // beyond the 1 s timeout
	v, err := client.EvalVariable(api.EvalScope{GoroutineID: -1}, "ev.Name", api.LoadConfig{MaxStringLen: 64})
	if err != nil {
		t.Fatal(err)
	}
	if v.Value != "delve" {
		t.Fatalf("ev.Name at the breakpoint = %q", v.Value)
	}
	resumed := client.Continue() // runs until the next call or the end; the answer is what we wait for
	wantAnswer(t, answer, `{"greeting":"hello delve"}`)
	_, _ = client.Halt()
	<-resumed
}

// checkDelveContainer checks how the debugged instance of fn runs: dlv from
// a read-only mount, its port published on 127.0.0.1 only, no capability
// added.
func checkDelveContainer(t *testing.T, fn string, port int) {
	t.Helper()
	e := containerEngines[0]
	host := os.Getenv(e.hostEnv)
	if host == "" {
		host = e.defHost
	}
	cli := engineClient(t, e, host)
	list, err := cli.ContainerList(ctxT(t), container.ListOptions{Filters: filters.NewArgs(
		filters.Arg("label", "lamb.managed=true"), filters.Arg("label", "lamb.function="+fn))})
	if err != nil || len(list) != 1 {
		t.Fatalf("containers of %s: %d, %v", fn, len(list), err)
	}
	ci, err := cli.ContainerInspect(ctxT(t), list[0].ID)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(strings.Join(ci.Config.Entrypoint, " "), "/lamb-dlv/dlv exec --headless --listen=:"+strconv.Itoa(port)) {
		t.Errorf("entrypoint %q does not run dlv", ci.Config.Entrypoint)
	}
	ro := false
	for _, m := range ci.Mounts {
		if m.Destination == "/lamb-dlv" {
			ro = !m.RW
		}
	}
	if !ro {
		t.Errorf("dlv not on a read-only mount: %+v", ci.Mounts)
	}
	pb := ci.HostConfig.PortBindings[nat.Port(strconv.Itoa(port)+"/tcp")]
	if len(pb) != 1 || pb[0].HostIP != "127.0.0.1" || pb[0].HostPort != strconv.Itoa(port) {
		t.Errorf("debug port bindings %+v, want 127.0.0.1:%d only", pb, port)
	}
	if len(ci.HostConfig.CapAdd) != 0 {
		t.Errorf("capabilities added: %v", ci.HostConfig.CapAdd)
	}
}

// TestDebugGoDockerBadDelve: a --dlv that cannot run in a container (not a
// Linux executable) is a clear error at the invoke, not a broken container.
func TestDebugGoDockerBadDelve(t *testing.T) {
	dir := t.TempDir()
	fake := filepath.Join(dir, "dlv")
	if err := os.WriteFile(fake, []byte("#!/bin/sh\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "bootstrap"), []byte("#!/bin/sh\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	s, _ := debugLamb(t, "godebug", nil, true, "--dlv", fake)
	ctx := ctxT(t)
	c := s.client("us-east-1", "123456789012")
	createActive(ctx, t, c, &lambda.CreateFunctionInput{
		FunctionName: aws.String("godebug"), Runtime: types.RuntimeProvidedal2023, Role: aws.String(role),
		Handler: aws.String("bootstrap"), Code: hotReloadCode(dir), Timeout: aws.Int32(1),
	}, time.Minute)
	a := <-invokeAsync(ctx, c, "godebug", `{}`)
	if !strings.Contains(a, fake+" is not a Linux executable") {
		t.Fatalf("invoke with a bad dlv answered %s", a)
	}
}

// TestDebugProvisionedProcess: provisioned concurrency 3 on a debugged
// version is one instance (docs/debugging.md): started ahead of any invoke
// (its debugger port open), 1 available of 3 allocated, and concurrent
// invokes all served by it.
func TestDebugProvisionedProcess(t *testing.T) {
	port, err := strconv.Atoi(freeAddr(t)[len("127.0.0.1:"):])
	if err != nil {
		t.Fatal(err)
	}
	s := startLambEnv(t, freeAddr(t), "", nil, "--debug", fmt.Sprintf("pyprov:1=%d", port))
	ctx := ctxT(t)
	c := s.client("us-east-1", "123456789012")
	code := zipOf(t, map[string]string{"app.py": "import os\n\ndef handler(event, context):\n    return {'pid': os.getpid()}\n"})
	createActive(ctx, t, c, &lambda.CreateFunctionInput{
		FunctionName: aws.String("pyprov"), Runtime: types.RuntimePython311, Role: aws.String(role),
		Handler: aws.String("app.handler"), Code: &types.FunctionCode{ZipFile: code}, Timeout: aws.Int32(5),
	}, time.Minute)
	if _, err := c.PublishVersion(ctx, &lambda.PublishVersionInput{FunctionName: aws.String("pyprov")}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.PutProvisionedConcurrencyConfig(ctx, &lambda.PutProvisionedConcurrencyConfigInput{
		FunctionName: aws.String("pyprov"), Qualifier: aws.String("1"), ProvisionedConcurrentExecutions: aws.Int32(3)}); err != nil {
		t.Fatal(err)
	}
	var cfg *lambda.GetProvisionedConcurrencyConfigOutput
	deadline := time.Now().Add(60 * time.Second)
	for {
		cfg, err = c.GetProvisionedConcurrencyConfig(ctx, &lambda.GetProvisionedConcurrencyConfigInput{
			FunctionName: aws.String("pyprov"), Qualifier: aws.String("1")})
		if err != nil {
			t.Fatal(err)
		}
		if cfg.Status != types.ProvisionedConcurrencyStatusEnumInProgress || time.Now().After(deadline) {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	if cfg.Status != types.ProvisionedConcurrencyStatusEnumReady || aws.ToInt32(cfg.AllocatedProvisionedConcurrentExecutions) != 3 ||
		aws.ToInt32(cfg.AvailableProvisionedConcurrentExecutions) != 1 {
		t.Fatalf("provisioned config %s (%s): allocated %d, available %d; want READY, 3, 1", cfg.Status, aws.ToString(cfg.StatusReason),
			aws.ToInt32(cfg.AllocatedProvisionedConcurrentExecutions), aws.ToInt32(cfg.AvailableProvisionedConcurrentExecutions))
	}
	// Started ahead: debugpy listens before any invoke.
	conn, err := net.Dial("tcp", fmt.Sprintf("127.0.0.1:%d", port))
	if err != nil {
		t.Fatalf("debug port of the provisioned instance: %v", err)
	}
	conn.Close()
	answers := make([]<-chan string, 3)
	for i := range answers {
		answers[i] = invokeAsync(ctx, c, "pyprov:1", `{}`)
	}
	pids := map[string]bool{}
	for _, a := range answers {
		select {
		case got := <-a:
			if !strings.Contains(got, `"pid"`) {
				t.Fatalf("invoke answered %s", got)
			}
			pids[got] = true
		case <-time.After(60 * time.Second):
			t.Fatal("invoke did not answer")
		}
	}
	if len(pids) != 1 {
		t.Fatalf("answers from %d processes, want the one provisioned instance: %v", len(pids), pids)
	}
}
