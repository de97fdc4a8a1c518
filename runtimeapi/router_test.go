package runtimeapi

import (
	"context"
	"net/http"
	"testing"
)

// step is one move in a protocol sequence: a test action or a runtime request and its answer.
type step struct {
	idle   bool   // make the first /next poll and abandon it
	invoke string // start Invoke with this request id (payload {"n":1})

	method, path string
	hdr          map[string]string
	body         string
	wantStatus   int
	wantErrType  string
}

func TestRouterSequences(t *testing.T) {
	next := step{method: http.MethodGet, path: base + "/invocation/next"}
	respond := func(id string, status int, errType string) step {
		return step{method: http.MethodPost, path: base + "/invocation/" + id + "/response", body: `"ok"`, wantStatus: status, wantErrType: errType}
	}
	fail := func(id string, status int, errType string) step {
		return step{method: http.MethodPost, path: base + "/invocation/" + id + "/error", body: `{}`, wantStatus: status, wantErrType: errType}
	}
	initErr := func(status int, errType string) step {
		return step{method: http.MethodPost, path: base + "/init/error", body: `{}`, wantStatus: status, wantErrType: errType}
	}
	with := func(s step, status int, errType string) step {
		s.wantStatus, s.wantErrType = status, errType
		return s
	}
	const forbidden = errorTypeInvalidStateTransition

	tests := []struct {
		name  string
		steps []step
	}{
		{"unknown path", []step{{method: http.MethodGet, path: base + "/nope", wantStatus: 404}}},
		{"unknown version", []step{{method: http.MethodGet, path: "/2020-01-01/runtime/invocation/next", wantStatus: 404}}},
		{"POST next", []step{{method: http.MethodPost, path: base + "/invocation/next", wantStatus: 405}}},
		{"HEAD next", []step{{method: http.MethodHead, path: base + "/invocation/next", wantStatus: 405}}},
		{"GET response", []step{{method: http.MethodGet, path: base + "/invocation/a/response", wantStatus: 405}}},
		{"PUT error", []step{{method: http.MethodPut, path: base + "/invocation/a/error", wantStatus: 405}}},
		{"GET init error", []step{{method: http.MethodGet, path: base + "/init/error", wantStatus: 405}}},
		{"response during init", []step{respond("a", 403, forbidden)}},
		{"error during init", []step{fail("a", 403, forbidden)}},
		{"init error once", []step{initErr(202, ""), initErr(403, forbidden), with(next, 403, forbidden)}},
		{"init error after next", []step{{idle: true}, initErr(403, forbidden)}},
		{"response while idle", []step{{idle: true}, respond("a", 403, forbidden)}},
		{"error while idle", []step{{idle: true}, fail("a", 403, forbidden)}},
		{"next while invoking", []step{{invoke: "a"}, with(next, 200, ""), with(next, 403, forbidden), respond("a", 202, "")}},
		{"response for another id", []step{{invoke: "a"}, with(next, 200, ""), respond("b", 400, errorTypeInvalidRequestID), respond("a", 202, "")}},
		{"error for another id", []step{{invoke: "a"}, with(next, 200, ""), fail("b", 400, errorTypeInvalidRequestID), fail("a", 202, "")}},
		{"second response", []step{{invoke: "a"}, with(next, 200, ""), respond("a", 202, ""), respond("a", 403, forbidden), fail("a", 403, forbidden)}},
		{"error after response", []step{{invoke: "a"}, with(next, 200, ""), fail("a", 202, ""), respond("a", 403, forbidden)}},
		{"two invocations", []step{
			{invoke: "a"}, with(next, 200, ""), respond("a", 202, ""),
			{invoke: "b"}, with(next, 200, ""), fail("b", 202, ""),
		}},
		{"bad response mode", []step{
			{invoke: "a"}, with(next, 200, ""),
			{method: http.MethodPost, path: base + "/invocation/a/response", hdr: map[string]string{headerResponseMode: "sideways"}, wantStatus: 400, wantErrType: errorTypeInvalidResponseMode},
			respond("a", 202, ""),
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t, Options{})
			var pending []<-chan invokeResult
			for i, st := range tt.steps {
				switch {
				case st.idle:
					f.toIdle()
					continue
				case st.invoke != "":
					// Invoke calls are sequential: the previous one has returned.
					for _, ch := range pending {
						waitResult(t, ch)
					}
					pending = nil
					pending = append(pending, f.startInvoke(context.Background(), &Invocation{RequestID: st.invoke, Payload: []byte(`{"n":1}`)}))
					continue
				}
				r := f.do(st.method, st.path, st.hdr, st.body)
				if r.status != st.wantStatus {
					t.Fatalf("step %d %s %s: status %d, want %d (body %s)", i, st.method, st.path, r.status, st.wantStatus, r.body)
				}
				if st.wantErrType != "" && r.errType() != st.wantErrType {
					t.Fatalf("step %d %s %s: errorType %q, want %q (body %s)", i, st.method, st.path, r.errType(), st.wantErrType, r.body)
				}
			}
			_ = f.s.Close()
			for _, ch := range pending {
				waitResult(t, ch)
			}
		})
	}
}

func TestInitErrorDelivered(t *testing.T) {
	f := newFixture(t, Options{})
	r := f.do(http.MethodPost, base+"/init/error", map[string]string{headerErrorType: "Runtime.NoSuchHandler"}, `{"errorMessage":"no"}`)
	if r.status != http.StatusAccepted {
		t.Fatalf("status %d", r.status)
	}
	jsonEq(t, r.body, `{"status":"OK"}`)
	select {
	case ie := <-f.s.InitErr():
		if ie.Type != "Runtime.NoSuchHandler" || string(ie.Body) != `{"errorMessage":"no"}` {
			t.Fatalf("init error = %+v", ie)
		}
	default:
		t.Fatal("InitErr empty")
	}
	select {
	case <-f.s.Ready():
		t.Fatal("Ready closed after an init error")
	default:
	}

	// Without the header the type defaults as for invocation errors.
	f2 := newFixture(t, Options{})
	f2.do(http.MethodPost, base+"/init/error", nil, `{}`)
	if ie := <-f2.s.InitErr(); ie.Type != "Unhandled" {
		t.Fatalf("default type %q", ie.Type)
	}
}

func TestMachineTable(t *testing.T) {
	// Every state denies what it does not list, and Close is legal everywhere.
	all := []event{eventNext, eventDeliver, eventResponse, eventResponseDone, eventError, eventInitError}
	for _, st := range []state{stateInit, stateIdle, stateInvoking, stateResponding, stateInitFailed, stateClosed} {
		for _, ev := range all {
			m := machine{cur: st}
			_, legal := transitions[st][ev]
			err := m.fire(ev)
			if legal != (err == nil) {
				t.Errorf("%s on %s: err %v, legal %v", st, ev, err, legal)
			}
			if !legal && m.cur != st {
				t.Errorf("%s on %s: denied but moved to %s", st, ev, m.cur)
			}
		}
		m := machine{cur: st}
		if err := m.fire(eventClose); err != nil || m.cur != stateClosed {
			t.Errorf("%s: close -> %s, %v", st, m.cur, err)
		}
	}
}
