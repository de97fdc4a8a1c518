package e2e

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	"github.com/aws/aws-sdk-go-v2/service/lambda/types"
)

// The java runtimes (runtimes/java, docs/runtimes.md#java) with real Java:
// handlers compiled with javac against lamb's declarations of AWS's
// interfaces, created through aws-sdk-go-v2, invoked; and jdb, the JDK's
// JDWP client, attached under lamb serve --debug.

// javaSources are the test's handlers; "// BREAK" marks jdb's breakpoint line.
var javaSources = map[string]string{
	"example/Hello.java": `package example;

import com.amazonaws.services.lambda.runtime.Context;
import com.amazonaws.services.lambda.runtime.RequestHandler;
import java.util.LinkedHashMap;
import java.util.Map;

public class Hello implements RequestHandler<Map<String, Object>, Map<String, Object>> {
    @Override
    public Map<String, Object> handleRequest(Map<String, Object> event, Context context) {
        Object name = event.get("name");
        if ("boom".equals(name)) {
            throw new IllegalStateException("no boom today");
        }
        Map<String, Object> out = new LinkedHashMap<>();
        out.put("hello", name); // BREAK
        out.put("function", context.getFunctionName());
        out.put("requestIdSet", !context.getAwsRequestId().isEmpty());
        out.put("timeLeft", context.getRemainingTimeInMillis() > 0);
        context.getLogger().log("said hello to " + name + "\n");
        return out;
    }
}
`,
	"example/Echo.java": `package example;

import com.amazonaws.services.lambda.runtime.Context;
import com.amazonaws.services.lambda.runtime.RequestStreamHandler;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;

public class Echo implements RequestStreamHandler {
    @Override
    public void handleRequest(InputStream in, OutputStream out, Context context) throws IOException {
        out.write("{\"raw\":".getBytes());
        in.transferTo(out);
        out.write("}".getBytes());
    }
}
`,
	"example/Plain.java": `package example;

import com.amazonaws.services.lambda.runtime.Context;
import java.util.List;

public class Plain {
    public static class Person {
        private String name;
        public int age;
        public void setName(String n) { name = n; }
        public String getGreeting() { return "hi " + name + " (" + age + ")"; }
    }

    public static String upper(String s, Context context) {
        return s.toUpperCase() + " from " + context.getFunctionName();
    }

    public long sum(List<Integer> xs) {
        long t = 0;
        for (int x : xs) {
            t += x;
        }
        return t;
    }

    public Person greet(Person p) {
        return p;
    }
}
`,
}

// javaAPIClasses compiles lamb's declarations of AWS's interfaces (what a
// user gets from aws-lambda-java-core) for handlers to compile against.
func javaAPIClasses(t *testing.T) string {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "api")
	var srcs []string
	root := filepath.Join("..", "..", "runtimes", "java", "src", "com")
	err := filepath.Walk(root, func(p string, fi os.FileInfo, err error) error {
		if err == nil && strings.HasSuffix(p, ".java") {
			srcs = append(srcs, p)
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	javac(t, append([]string{"-d", dir}, srcs...)...)
	return dir
}

func javac(t *testing.T, args ...string) {
	t.Helper()
	bin, err := exec.LookPath("javac")
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatal("javac not found (scripts/setup.sh installs openjdk-17-jdk-headless)")
		}
		t.Skip("javac not found: install a JDK 17 (openjdk-17-jdk-headless)")
	}
	out, err := exec.Command(bin, append([]string{"--release", "17", "-g"}, args...)...).CombinedOutput()
	if err != nil {
		t.Fatalf("javac: %v\n%s", err, out)
	}
}

// javaZip compiles javaSources (with locals for the debugger) and zips the
// classes as a function's code, as a user's build would.
func javaZip(t *testing.T) []byte {
	t.Helper()
	api := javaAPIClasses(t)
	src, classes := t.TempDir(), t.TempDir()
	var paths []string
	for name, body := range javaSources {
		p := filepath.Join(src, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
		paths = append(paths, p)
	}
	javac(t, append([]string{"-cp", api, "-d", classes}, paths...)...)
	files := map[string]string{}
	err := filepath.Walk(classes, func(p string, fi os.FileInfo, err error) error {
		if err != nil || fi.IsDir() {
			return err
		}
		b, err := os.ReadFile(p)
		rel, _ := filepath.Rel(classes, p)
		files[filepath.ToSlash(rel)] = string(b)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	if files["example/Hello.class"] == "" {
		t.Fatalf("javac made no example/Hello.class: %v", files)
	}
	return zipOf(t, files)
}

// breakLine is the line of "// BREAK" in Hello.java.
func breakLine(t *testing.T) int {
	for i, l := range strings.Split(javaSources["example/Hello.java"], "\n") {
		if strings.Contains(l, "// BREAK") {
			return i + 1
		}
	}
	t.Fatal("no BREAK line")
	return 0
}

// javaLamb starts lamb with args on the process backend, or on Docker with
// the java stand-in image (LAMB_TEST_IMAGES' java=, else built by
// scripts/build-runtime-images.sh).
func javaLamb(t *testing.T, docker bool, args ...string) *server {
	t.Helper()
	addr := freeAddr(t)
	var env []string
	if docker {
		e := containerEngines[0]
		host := os.Getenv(e.hostEnv)
		if host == "" {
			host = e.defHost
		}
		cli := engineClient(t, e, host)
		img := javaImage(t, e)
		args = append(args, "--backend", "docker", "--runtime-image", "java="+img)
		removeAtEnd(t, cli, "ephemeral-"+addr)
		env = append(env, "LAMB_CONTAINER_HOST="+host)
	}
	return startLambEnv(t, addr, "", env, args...)
}

func javaImage(t *testing.T, e containerEngine) string {
	t.Helper()
	for _, kv := range strings.Split(os.Getenv(e.imagesEnv), ",") {
		if k, v, ok := strings.Cut(strings.TrimSpace(kv), "="); ok && k == "java" {
			return v
		}
	}
	t.Logf("%s has no java image: building it", e.imagesEnv)
	cmd := exec.Command(filepath.Join("..", "..", "scripts", "build-runtime-images.sh"))
	cmd.Env = append(os.Environ(), "DOCKER="+e.cli, "LAMB_IMAGE_FAMILIES=java")
	var stderr strings.Builder
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("scripts/build-runtime-images.sh (java): %v\n%s", err, stderr.String())
	}
	img, ok := strings.CutPrefix(strings.TrimSpace(string(out)), "java=")
	if !ok {
		t.Fatalf("scripts/build-runtime-images.sh printed %q", out)
	}
	return img
}

func TestJavaProcess(t *testing.T) { testJava(t, false) }
func TestJavaDocker(t *testing.T)  { testJava(t, true) }

func testJava(t *testing.T, docker bool) {
	code := javaZip(t)
	s := javaLamb(t, docker)
	ctx := ctxT(t)
	c := s.client("us-east-1", "123456789012")
	create := func(name, handler string) {
		createActive(ctx, t, c, &lambda.CreateFunctionInput{
			FunctionName: aws.String(name), Runtime: types.RuntimeJava17, Role: aws.String(role),
			Handler: aws.String(handler), Code: &types.FunctionCode{ZipFile: code}, Timeout: aws.Int32(60),
		}, time.Minute)
	}
	invoke := func(name, payload string) (*lambda.InvokeOutput, string) {
		t.Helper()
		out, err := c.Invoke(ctx, &lambda.InvokeInput{FunctionName: aws.String(name), Payload: []byte(payload), LogType: types.LogTypeTail})
		if err != nil {
			t.Fatalf("Invoke %s: %v", name, err)
		}
		return out, string(out.Payload)
	}
	create("jhello", "example.Hello")
	create("jecho", "example.Echo::handleRequest")
	create("jupper", "example.Plain::upper")
	create("jsum", "example.Plain::sum")
	create("jgreet", "example.Plain::greet")
	create("jmissing", "example.Missing")

	cases := []struct {
		fn, payload, want string
	}{
		{"jhello", `{"name":"duke"}`, `{"hello":"duke","function":"jhello","requestIdSet":true,"timeLeft":true}`},
		{"jecho", `[1, "two"]`, `{"raw":[1, "two"]}`},
		{"jupper", `"quiet"`, `"QUIET from jupper"`},
		{"jsum", `[1,2,3,40]`, `46`},
		{"jgreet", `{"name":"ada","age":36,"unknown":true}`, `{"age":36,"greeting":"hi ada (36)"}`},
	}
	for _, tc := range cases {
		out, got := invoke(tc.fn, tc.payload)
		if out.FunctionError != nil || got != tc.want {
			t.Errorf("%s(%s) = %s (function error %v), want %s", tc.fn, tc.payload, got, aws.ToString(out.FunctionError), tc.want)
		}
	}
	out, _ := invoke("jhello", `{"name":"logs"}`)
	if tail := decodeTail(t, out.LogResult); !strings.Contains(tail, "said hello to logs") {
		t.Errorf("log tail lacks the handler's line: %q", tail)
	}

	// An unhandled exception: AWS's document, errorType the exception's class.
	out, body := invoke("jhello", `{"name":"boom"}`)
	var e struct {
		ErrorMessage string   `json:"errorMessage"`
		ErrorType    string   `json:"errorType"`
		StackTrace   []string `json:"stackTrace"`
	}
	if err := json.Unmarshal(out.Payload, &e); err != nil {
		t.Fatalf("error body %s: %v", body, err)
	}
	if aws.ToString(out.FunctionError) != "Unhandled" || e.ErrorType != "java.lang.IllegalStateException" || e.ErrorMessage != "no boom today" ||
		len(e.StackTrace) == 0 || !strings.HasPrefix(e.StackTrace[0], "example.Hello.handleRequest(Hello.java:") {
		t.Errorf("unhandled exception: function error %v, %s", aws.ToString(out.FunctionError), body)
	}
	// The instance serves on after it.
	if _, got := invoke("jhello", `{"name":"again"}`); !strings.Contains(got, `"hello":"again"`) {
		t.Errorf("after an exception: %s", got)
	}

	// A handler class that is not there fails init as AWS's runtime does.
	out, body = invoke("jmissing", `{}`)
	if out.FunctionError == nil || !strings.Contains(body, `"errorType":"java.lang.ClassNotFoundException"`) ||
		!strings.Contains(body, "Class not found: example.Missing") {
		t.Errorf("missing class: function error %v, %s", aws.ToString(out.FunctionError), body)
	}
}

// ---- JDWP, through jdb

func TestDebugJavaProcess(t *testing.T) { testDebugJava(t, false) }
func TestDebugJavaDocker(t *testing.T)  { testDebugJava(t, true) }

// jdbSession is jdb attached to a JVM, driven through its stdin.
type jdbSession struct {
	t      *testing.T
	in     io.WriteCloser
	mu     sync.Mutex
	out    strings.Builder // everything jdb printed
	lines  chan string
	cmd    *exec.Cmd
	exited chan struct{} // jdb exited
	done   chan struct{} // its output is read
}

// attachJdb attaches jdb to the JVM on port, trying again while the JVM
// does not listen yet: Docker's proxy accepts on a published port before
// anything listens in the container, so a connection is no sign (and a
// probe that handshook and left would resume a JVM waiting under
// suspend=y).
func attachJdb(t *testing.T, port int, answer <-chan string) *jdbSession {
	t.Helper()
	bin, err := exec.LookPath("jdb")
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatal("jdb not found (scripts/setup.sh installs openjdk-17-jdk-headless)")
		}
		t.Skip("jdb not found: install a JDK 17 (openjdk-17-jdk-headless)")
	}
	deadline := time.Now().Add(90 * time.Second)
	for {
		j := startJdb(t, bin, port)
		if j.started() {
			t.Cleanup(j.stop)
			return j
		}
		j.stop()
		if time.Now().After(deadline) {
			t.Fatalf("jdb could not attach to port %d:\n%s", port, j.transcript())
		}
		select {
		case a := <-answer:
			t.Fatalf("invoke ended before jdb attached: %s", a)
		case <-time.After(300 * time.Millisecond):
		}
	}
}

func startJdb(t *testing.T, bin string, port int) *jdbSession {
	t.Helper()
	cmd := exec.Command(bin, "-attach", "127.0.0.1:"+strconv.Itoa(port))
	in, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	pr, pw := io.Pipe()
	cmd.Stdout, cmd.Stderr = pw, pw
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	j := &jdbSession{t: t, in: in, lines: make(chan string, 1024), exited: make(chan struct{}), done: make(chan struct{}), cmd: cmd}
	go func() { // owned by the session: ends when jdb exits
		_ = cmd.Wait()
		close(j.exited)
		_ = pw.Close()
	}()
	go func() { // owned by the session: ends when jdb's output closes
		defer close(j.done)
		defer close(j.lines)
		sc := bufio.NewScanner(pr)
		for sc.Scan() {
			l := sc.Text()
			j.mu.Lock()
			j.out.WriteString(l + "\n")
			j.mu.Unlock()
			j.lines <- l
		}
		_, _ = io.Copy(io.Discard, pr)
	}()
	return j
}

// started waits until jdb is attached (true) or has given up (false).
func (j *jdbSession) started() bool {
	deadline := time.After(60 * time.Second)
	for {
		select {
		case l, ok := <-j.lines:
			if !ok {
				return false
			}
			if strings.Contains(l, "VM Started") {
				return true
			}
		case <-deadline:
			return false
		}
	}
}

// stop ends jdb (quit, else kill) and waits for its goroutines.
func (j *jdbSession) stop() {
	_, _ = io.WriteString(j.in, "quit\n")
	_ = j.in.Close()
	select {
	case <-j.exited:
	case <-time.After(10 * time.Second):
		_ = j.cmd.Process.Kill()
		<-j.exited
	}
	go func() { // drain what is left so the reader ends
		for range j.lines {
		}
	}()
	<-j.done
}

func (j *jdbSession) send(cmd string) {
	j.t.Helper()
	if _, err := io.WriteString(j.in, cmd+"\n"); err != nil {
		j.t.Fatalf("jdb %q: %v", cmd, err)
	}
}

// until waits for a line of jdb's output containing want.
func (j *jdbSession) until(want string) string {
	j.t.Helper()
	deadline := time.After(60 * time.Second)
	for {
		select {
		case l, ok := <-j.lines:
			if !ok {
				j.t.Fatalf("jdb exited before %q:\n%s", want, j.transcript())
			}
			if strings.Contains(l, want) {
				return l
			}
		case <-deadline:
			j.t.Fatalf("jdb never printed %q:\n%s", want, j.transcript())
		}
	}
}

func (j *jdbSession) transcript() string {
	j.mu.Lock()
	defer j.mu.Unlock()
	return j.out.String()
}

func testDebugJava(t *testing.T, docker bool) {
	code := javaZip(t)
	port, err := strconv.Atoi(freeAddr(t)[len("127.0.0.1:"):])
	if err != nil {
		t.Fatal(err)
	}
	s := javaLamb(t, docker, "--debug", fmt.Sprintf("jdebug=%d", port), "--debug-wait")
	ctx := ctxT(t)
	c := s.client("us-east-1", "123456789012")
	createActive(ctx, t, c, &lambda.CreateFunctionInput{
		FunctionName: aws.String("jdebug"), Runtime: types.RuntimeJava21, Role: aws.String(role),
		Handler: aws.String("example.Hello::handleRequest"), Code: &types.FunctionCode{ZipFile: code}, Timeout: aws.Int32(1),
	}, time.Minute)
	answer := invokeAsync(ctx, c, "jdebug", `{"name":"jdwp"}`)
	line := breakLine(t)
	j := attachJdb(t, port, answer)
	j.send(fmt.Sprintf("stop at example.Hello:%d", line))
	j.until("breakpoint example.Hello:" + strconv.Itoa(line))
	j.send("cont") // --debug-wait: the JVM waited (suspend=y) for us
	hit := j.until("Breakpoint hit:")
	if !strings.Contains(hit, "example.Hello.handleRequest(), line="+strconv.Itoa(line)) {
		t.Fatalf("stopped at %q, want example.Hello:%d", hit, line)
	}
	select {
	case a := <-answer:
		t.Fatalf("invoke answered while paused at the breakpoint: %s", a)
	case <-time.After(1500 * time.Millisecond): // beyond the function's 1 s timeout
	}
	j.send("locals")
	j.until(`name = "jdwp"`)
	j.send("print event")
	j.until(`event = "{name=jdwp}"`)
	j.send("clear example.Hello:" + strconv.Itoa(line))
	j.send("cont")
	wantAnswer(t, answer, `{"hello":"jdwp","function":"jdebug"`)
}
