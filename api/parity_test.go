package api

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"reflect"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	"github.com/aws/aws-sdk-go-v2/service/lambda/types"
)

// The parity suite re-enacts scenarios recorded against real AWS
// (shared/aws-snapshots) with aws-sdk-go-v2 against lamb, normalises lamb's
// answers as the recording was normalised and compares them field for field.
// Every label a scenario checks must match (a mismatch fails the test);
// TestParity prints per test class how many of the recorded labels lamb
// re-enacts and matches, and how many it cannot match (parityUnmatchable,
// each with its reason):
//
//	go test ./api -run 'TestParity$' -v
//
// LAMB_PARITY_REPORT=file also writes the table to file.
//
// Two kinds of entries feed the table: scenarios registered with
// registerParity (a harness and normaliser set up for one recorded test id)
// and plain tests registered with registerParityTest, which compare one or
// more recorded tests' labels through matchSnapshot. TestParity runs both,
// so every label any api test compares against the recording is counted,
// once, when it matches.

// parityScenario re-enacts one recorded test; names are its function names
// in the order of their <function-name:N> placeholders.
type parityScenario struct {
	names []string
	run   func(p *parity)
}

// parityScenarios maps a recorded test id (Class::test) to its re-enactment.
var parityScenarios = map[string]parityScenario{}

// registerParity adds a scenario (used as var _ = registerParity(...)).
func registerParity(id string, names []string, run func(p *parity)) bool {
	parityScenarios[id] = parityScenario{names: names, run: run}
	return true
}

// parityTests maps a name to a plain test that compares recorded labels with
// matchSnapshot; TestParity runs each as a subtest.
var parityTests = map[string]func(t *testing.T){}

// registerParityTest adds a plain test (used as var _ = registerParityTest(...)).
func registerParityTest(name string, fn func(t *testing.T)) bool {
	parityTests[name] = fn
	return true
}

// parityTally holds the matched labels per class as a set of "id label",
// so a label compared by several tests counts once.
var parityTally = struct {
	sync.Mutex
	matched map[string]map[string]bool
}{matched: map[string]map[string]bool{}}

// tallyParity records that lamb matched label of the recorded test id.
func tallyParity(id, label string) {
	class := strings.SplitN(id, "::", 2)[0]
	parityTally.Lock()
	defer parityTally.Unlock()
	if parityTally.matched[class] == nil {
		parityTally.matched[class] = map[string]bool{}
	}
	parityTally.matched[class][id+" "+label] = true
}

type parity struct {
	t    *testing.T
	h    *harness
	n    *normaliser
	snap snapshot
	ctx  context.Context
	held atomic.Pointer[chan struct{}] // while set, Prepare waits for it to close
}

// hold keeps the next Prepare calls waiting (the function stays Pending or
// InProgress, as AWS's does for a while) until the returned func is called.
func (p *parity) hold() (release func()) {
	ch := make(chan struct{})
	p.held.Store(&ch)
	return func() { p.held.Store(nil); close(ch) }
}

// check compares the last response with the recorded label.
func (p *parity) check(label string) {
	p.t.Helper()
	p.checkWith(label, "<location>", nil)
}

// checkWith is check with a Location placeholder and a fix-up of lamb's view
// (for members boto3 fills from the status line).
func (p *parity) checkWith(label, location string, fix func(got map[string]any)) {
	p.t.Helper()
	rr := p.h.rec.lastResponse()
	got := p.n.normalise(rr.boto3View(p.t), location)
	if fix != nil {
		fix(got)
	}
	want := expected(p.t, p.snap, label)
	if _, ok := want["ResponseMetadata"]; !ok {
		delete(got, "ResponseMetadata") // a few recordings dropped it
	}
	if !reflect.DeepEqual(got, want) {
		p.t.Errorf("%s differs from AWS's recording:\n%s", label, strings.Join(jsonDiff("", got, want), "\n"))
		return
	}
	tallyParity(p.snap.id, label)
}

// parityStep is one request of a recorded scenario and the label its answer
// is compared with ("" for a request whose answer the recording did not
// keep). The request's type names the operation, as the SDK names them: a
// *lambda.GetPolicyInput is sent with GetPolicy.
type parityStep struct {
	label string
	in    any
}

// send makes the request in is the input of and returns its error (the
// recorder keeps the answer for check).
func (p *parity) send(in any) error {
	p.t.Helper()
	return sendInput(p.t, p.h.client, p.ctx, in)
}

// sendInput makes the request in is the input of (see parityStep) with c
// and returns its error.
func sendInput(t testing.TB, c *lambda.Client, ctx context.Context, in any) error {
	t.Helper()
	v := reflect.ValueOf(in)
	op := strings.TrimSuffix(v.Type().Elem().Name(), "Input")
	m := reflect.ValueOf(c).MethodByName(op)
	if !m.IsValid() {
		t.Fatalf("lambda.Client has no operation %s (for a %T)", op, in)
	}
	err, _ := m.Call([]reflect.Value{reflect.ValueOf(ctx), v})[1].Interface().(error)
	return err
}

// optional is s as an optional request member: nil (not sent) when empty.
func optional(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}

// snapshotSteps compares answers to requests sent with h, normalised by n,
// with the labels of snap.
type snapshotSteps struct {
	t    *testing.T
	h    *harness
	snap snapshot
	n    *normaliser
}

// step sends in, which must succeed, and compares the answer (normalised
// with location for Location members) with label.
func (s snapshotSteps) step(label, location string, in any) {
	s.t.Helper()
	if err := sendInput(s.t, s.h.client, context.Background(), in); err != nil {
		s.t.Fatalf("%s: %v", label, err)
	}
	matchSnapshot(s.t, s.snap, label, s.n.normalise(s.h.rec.lastResponse().boto3View(s.t), location))
}

// mustSend is send for a step the scenario needs to succeed.
func (p *parity) mustSend(in any) {
	p.t.Helper()
	if err := p.send(in); err != nil {
		p.t.Fatalf("%T: %v", in, err)
	}
}

// sendSteps sends the steps' requests in order, comparing each answer with
// its step's label by check (p.check, p.checkPolicy, ...).
func (p *parity) sendSteps(check func(label string), steps []parityStep) {
	p.t.Helper()
	for _, s := range steps {
		_ = p.send(s.in)
		if s.label != "" {
			check(s.label)
		}
	}
}

// checkGot compares a view lamb's answers were assembled into (e.g. pages
// joined as boto3's paginator does) with the recorded label.
func (p *parity) checkGot(label string, got map[string]any) {
	p.t.Helper()
	want := expected(p.t, p.snap, label)
	if !reflect.DeepEqual(got, want) {
		p.t.Errorf("%s differs from AWS's recording:\n%s", label, strings.Join(jsonDiff("", got, want), "\n"))
		return
	}
	tallyParity(p.snap.id, label)
}

// checkValue compares a value lamb derived from its answers with a label
// the recording stores as a plain value (not a response).
func (p *parity) checkValue(label string, got any) {
	p.t.Helper()
	checkSnapshotValue(p.t, p.snap, label, got)
}

// checkSnapshotValue compares got with a label the recording stores as a
// plain value and counts it when it matches.
func checkSnapshotValue(t *testing.T, snap snapshot, label string, got any) {
	t.Helper()
	raw, _ := json.Marshal(snap.labels[label])
	var want any
	_ = json.Unmarshal(raw, &want)
	graw, _ := json.Marshal(got)
	var g any
	_ = json.Unmarshal(graw, &g)
	if !reflect.DeepEqual(g, want) {
		t.Errorf("%s: got %s, want %s", label, graw, raw)
		return
	}
	tallyParity(snap.id, label)
}

// createFn creates a python3.12 index.handler function as the recordings do
// and waits for it to be Active unless wait is false.
func (p *parity) createFn(name string, mutate func(in *lambda.CreateFunctionInput), wait bool) {
	p.t.Helper()
	in := &lambda.CreateFunctionInput{
		FunctionName: aws.String(name),
		Runtime:      types.RuntimePython312,
		Role:         aws.String(testRole),
		Handler:      aws.String("index.handler"),
		Code:         &types.FunctionCode{ZipFile: zipOf(p.t, map[string]string{"index.py": "def handler(event, context):\n    return event\n"})},
	}
	if mutate != nil {
		mutate(in)
	}
	if _, err := p.h.client.CreateFunction(p.ctx, in); err != nil {
		p.t.Fatalf("CreateFunction %s: %v", name, err)
	}
	if wait {
		rr := p.h.rec.lastResponse()
		waitActive(p.t, p.h.client, name)
		p.h.rec.mu.Lock()
		p.h.rec.last = rr
		p.h.rec.mu.Unlock()
	}
}

// createHandlerFn creates a function as the recordings' helper
// (create_lambda_function) does: handler.handler, Timeout 30, empty
// environment; their role and runtime version are <resource:2>/<resource:3>.
func (p *parity) createHandlerFn(name string) {
	p.t.Helper()
	p.replace("role/lambda-test-role", "role/<resource:2>", "runtime:"+runtimeHash("python3.12"), "runtime:<resource:3>")
	p.createHandlerFnPlain(name)
}

// createHandlerFnPlain is createHandlerFn with the role and runtime version
// numbered <resource:1>/<resource:2>.
func (p *parity) createHandlerFnPlain(name string) {
	p.t.Helper()
	p.createFn(name, func(in *lambda.CreateFunctionInput) {
		in.Handler = aws.String("handler.handler")
		in.Timeout = aws.Int32(30)
		in.Environment = &types.Environment{Variables: map[string]string{}}
	}, true)
}

// newParity sets up one scenario's harness and normaliser; names are the
// function names in order of their <function-name:N> placeholders.
func newParity(t *testing.T, id string, names ...string) *parity {
	pairs := []string{
		"role/lambda-test-role", "role/<resource:1>",
		"runtime:" + runtimeHash("python3.12"), "runtime:<resource:2>",
	}
	for i, n := range names {
		pairs = append([]string{n, fmt.Sprintf("<function-name:%d>", i+1)}, pairs...)
	}
	p := &parity{t: t, n: newNormaliser(pairs...), snap: loadSnapshot(t, id), ctx: context.Background()}
	p.h = newHarness(t, Config{Now: p.snap.clock(), Prepare: func(ctx context.Context, _ FunctionInfo) error {
		if ch := p.held.Load(); ch != nil {
			select {
			case <-*ch:
			case <-ctx.Done():
			}
		}
		return nil
	}})
	return p
}

func TestParity(t *testing.T) {
	ids := make([]string, 0, len(parityScenarios))
	for id := range parityScenarios {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	for _, id := range ids {
		t.Run(strings.ReplaceAll(id, "::", "/"), func(t *testing.T) {
			sc := parityScenarios[id]
			sc.run(newParity(t, id, sc.names...))
		})
	}
	names := make([]string, 0, len(parityTests))
	for n := range parityTests {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		t.Run(n, parityTests[n])
	}
	totals := parityTotals(t)
	classes := make([]string, 0, len(totals))
	for c := range totals {
		classes = append(classes, c)
	}
	sort.Strings(classes)
	var b strings.Builder
	recorded := parityRecorded(t)
	cannot := map[string]int{}
	parityTally.Lock()
	for key, why := range parityUnmatchable {
		id, label, _ := strings.Cut(key, " ")
		class := strings.SplitN(id, "::", 2)[0]
		if _, ok := recorded[id][label]; !ok {
			t.Errorf("parityUnmatchable names %q, which the recording lacks", key)
		}
		if parityTally.matched[class][key] {
			t.Errorf("parityUnmatchable names %q (%s), but it matched: drop the entry", key, why)
		}
		cannot[class]++
	}
	fmt.Fprintf(&b, "%-32s %8s %8s %8s\n", "class", "matched", "cannot", "recorded")
	sumM, sumC, sumT := 0, 0, 0
	for _, c := range classes {
		fmt.Fprintf(&b, "%-32s %8d %8d %8d\n", c, len(parityTally.matched[c]), cannot[c], totals[c])
		sumM += len(parityTally.matched[c])
		sumC += cannot[c]
		sumT += totals[c]
	}
	parityTally.Unlock()
	fmt.Fprintf(&b, "%-32s %8d %8d %8d\n", "total", sumM, sumC, sumT)
	if class := os.Getenv("LAMB_PARITY_MISSING"); class != "" {
		b.WriteString("\nnot matched in " + class + ":\n")
		for _, l := range parityUnmatched(t, class) {
			b.WriteString("  " + l + "\n")
		}
	}
	t.Log("\n" + b.String())
	if f := os.Getenv("LAMB_PARITY_REPORT"); f != "" {
		if err := os.WriteFile(f, []byte(b.String()), 0o644); err != nil {
			t.Errorf("write report: %v", err)
		}
	}
}

// parityUnmatched lists "id label" of class's recorded labels that no test
// matched (LAMB_PARITY_MISSING=Class prints them with the table).
func parityUnmatched(t *testing.T, class string) []string {
	all := parityRecorded(t)
	var out []string
	parityTally.Lock()
	defer parityTally.Unlock()
	for id, labels := range all {
		if !strings.HasPrefix(id, class+"::") {
			continue
		}
		for l := range labels {
			if !parityTally.matched[class][id+" "+l] {
				out = append(out, id+" "+l)
			}
		}
	}
	sort.Strings(out)
	return out
}

// parityRecorded returns the recorded labels by test id (Class::test).
func parityRecorded(t *testing.T) map[string]map[string]any {
	out := map[string]map[string]any{}
	for key, entry := range loadSnapshotFile(t) {
		labels := entry.Recorded
		if _, rest, ok := strings.Cut(key, ".py::"); ok {
			out[rest] = labels
		}
	}
	return out
}

// parityTotals counts the recorded labels per class.
func parityTotals(t *testing.T) map[string]int {
	out := map[string]int{}
	for id, labels := range parityRecorded(t) {
		out[strings.SplitN(id, "::", 2)[0]] += len(labels)
	}
	return out
}

// jsonDiff lists the paths where got and want differ.
func jsonDiff(path string, got, want any) []string {
	gm, gok := got.(map[string]any)
	wm, wok := want.(map[string]any)
	if gok && wok {
		var out []string
		keys := map[string]bool{}
		for k := range gm {
			keys[k] = true
		}
		for k := range wm {
			keys[k] = true
		}
		sorted := make([]string, 0, len(keys))
		for k := range keys {
			sorted = append(sorted, k)
		}
		sort.Strings(sorted)
		for _, k := range sorted {
			out = append(out, jsonDiff(path+"."+k, gm[k], wm[k])...)
		}
		return out
	}
	ga, gok := got.([]any)
	wa, wok := want.([]any)
	if gok && wok && len(ga) == len(wa) {
		var out []string
		for i := range ga {
			out = append(out, jsonDiff(fmt.Sprintf("%s[%d]", path, i), ga[i], wa[i])...)
		}
		return out
	}
	if reflect.DeepEqual(got, want) {
		return nil
	}
	g, _ := json.Marshal(got)
	w, _ := json.Marshal(want)
	return []string{fmt.Sprintf("  %s: got %s, want %s", path, g, w)}
}
