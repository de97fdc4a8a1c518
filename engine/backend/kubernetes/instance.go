package kubernetes

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/watch"

	"github.com/lambhq/lamb/agent/agentapi"
	"github.com/lambhq/lamb/engine/backend"
)

const maxTail = 64 << 10

// instance is one Pod whose main container runs the agent, which runs the runtime.
type instance struct {
	b       *Backend
	id      string
	pod     string
	spec    *backend.Spec
	arts    []backend.Artifact
	rv      string // resourceVersion to watch from
	client  *agentapi.Client
	initDur time.Duration

	ready    chan struct{}           // closed on the agent's ready event
	initErr  chan *backend.InitError // the agent's initError event (cap 1)
	exited   context.Context         // cancelled once the runtime or Pod is gone
	markExit context.CancelFunc      //
	life     context.Context         // cancelled by Stop or at the end of run
	endLife  context.CancelFunc      //
	done     chan struct{}           // closed once the exit is recorded and the Pod deleted
	exitErr  *backend.ExitError      // set before done closes
	stopping atomic.Bool
	stopOnce sync.Once

	// Written by the watcher before closing started / podEnd.
	started   chan struct{} // the main container runs and the Pod has an IP
	podIP     string
	podEnd    chan struct{} // the Pod ended (deleted, terminating, failed, succeeded) or cannot start
	endWhy    error         // why, for messages
	fatal     error         // the Pod can never start (image, init container): Launch's error
	podExit   *backend.ExitError
	pendMu    sync.Mutex
	pendWhy   string // the latest reason the Pod is not running yet
	endOnce   sync.Once
	podGone   context.Context // cancelled when podEnd closes
	goneFn    context.CancelFunc
	exitKnown bool // exitErr holds a real exit status (from the agent or the kubelet)

	logMu     sync.Mutex
	logSeq    uint64
	logMoved  chan struct{}
	tail      []byte
	eventsErr error
}

// Launch implements backend.Backend: create the Pod, watch it until its main
// container runs, open the agent's event stream at the Pod IP and wait for
// the runtime's ready event.
func (b *Backend) Launch(ctx context.Context, spec *backend.Spec) (backend.Instance, error) {
	if spec.InstanceID == "" {
		return nil, errors.New("kubernetes backend: empty instance id")
	}
	pod, err := b.cfg.podFor(spec, b.token)
	if err != nil {
		return nil, err
	}
	var arts []backend.Artifact
	if spec.Code.SHA256 != "" {
		arts = append(arts, spec.Code)
	}
	arts = append(arts, spec.Layers...)
	in := &instance{b: b, id: spec.InstanceID, pod: pod.Name, spec: spec, arts: arts,
		ready: make(chan struct{}), initErr: make(chan *backend.InitError, 1), done: make(chan struct{}),
		started: make(chan struct{}), podEnd: make(chan struct{}), logMoved: make(chan struct{})}
	in.exited, in.markExit = context.WithCancel(context.Background())
	in.life, in.endLife = context.WithCancel(context.Background())
	in.podGone, in.goneFn = context.WithCancel(context.Background())
	if err := b.arts.add(arts...); err != nil {
		return nil, fmt.Errorf("kubernetes backend: %w", err)
	}
	if err := b.track(in); err != nil {
		b.arts.release(arts...)
		return nil, err
	}
	start := time.Now()
	created, err := b.pods.Create(ctx, pod, metav1.CreateOptions{})
	if err != nil {
		b.arts.release(arts...)
		b.forget(in)
		close(in.done) // a concurrent Close may be waiting in Stop
		return nil, fmt.Errorf("kubernetes backend: create pod %s: %w", pod.Name, err)
	}
	in.rv = created.ResourceVersion
	go in.run()

	tctx, cancel := context.WithTimeout(ctx, b.cfg.StartTimeout)
	defer cancel()
	select {
	case <-in.ready:
		in.initDur = time.Since(start)
		return in, nil
	case ie := <-in.initErr:
		_ = in.Stop(context.Background())
		return nil, in.withInitLog(ie)
	case <-in.done:
		// Runtimes usually post their init error and exit at once: prefer the error.
		select {
		case ie := <-in.initErr:
			return nil, in.withInitLog(ie)
		default:
		}
		if in.fatal != nil {
			return nil, in.fatal
		}
		if in.exitKnown {
			return nil, in.exitErr
		}
		return nil, fmt.Errorf("kubernetes backend: pod %s ended before it was ready: %w", in.pod, errors.Join(in.endWhy, in.eventsErr))
	case <-tctx.Done():
		_ = in.Stop(context.Background())
		in.pendMu.Lock()
		why := in.pendWhy
		in.pendMu.Unlock()
		return nil, fmt.Errorf("kubernetes backend: waiting for pod %s (%s): %w", in.pod, why, tctx.Err())
	}
}

func (in *instance) withInitLog(ie *backend.InitError) error {
	in.logMu.Lock()
	ie.Log = bytes.Clone(in.tail)
	in.logMu.Unlock()
	return ie
}

// run owns the instance's life: it runs the Pod watcher, then the agent's
// event stream until the runtime or the Pod ends, records the exit, deletes
// the Pod and closes done.
func (in *instance) run() {
	defer close(in.done)
	defer in.b.arts.release(in.arts...)
	defer in.b.forget(in)
	watchDone := make(chan struct{})
	go func() { defer close(watchDone); in.watch() }()

	var exitEv *agentapi.Event
	select {
	case <-in.started:
		in.client = agentapi.NewClient(net.JoinHostPort(in.podIP, strconv.Itoa(agentPort)))
		// The stream ends with the Pod: a deleted Pod's connection may never
		// see a FIN, so the watcher's verdict cancels it.
		sctx, cancel := context.WithCancel(in.life)
		stopWatching := context.AfterFunc(in.podGone, cancel)
		es, err := in.connect(sctx)
		if err != nil {
			in.eventsErr = err
		} else {
			exitEv, in.eventsErr = in.consume(es)
			es.Close()
		}
		stopWatching()
		cancel()
	case <-in.podEnd:
	case <-in.life.Done():
		in.eventsErr = in.life.Err()
	}
	in.markExit()
	if in.client != nil {
		in.client.CloseIdleConnections()
	}

	xe := &backend.ExitError{Code: -1}
	if exitEv != nil {
		xe.Code, xe.Signal, xe.OOM, xe.Log = exitEv.Code, exitEv.Signal, exitEv.OOM, exitEv.Tail
		in.exitKnown = true
	} else {
		in.logMu.Lock()
		xe.Log = bytes.Clone(in.tail)
		in.logMu.Unlock()
		if !in.stopping.Load() {
			// The Pod's own view of the exit, which the watcher sees shortly.
			t := time.NewTimer(10 * time.Second)
			select {
			case <-in.podEnd:
			case <-in.life.Done():
			case <-t.C:
			}
			t.Stop()
			select {
			case <-in.podEnd:
				if pe := in.podExit; pe != nil {
					in.exitKnown = true
					xe.Code, xe.Signal, xe.OOM = pe.Code, pe.Signal, pe.OOM
					if len(xe.Log) == 0 {
						xe.Log = pe.Log
					}
				}
			default:
			}
		}
	}
	in.exitErr = xe
	in.endLife()
	<-watchDone
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := in.b.deletePod(ctx, in.pod); err != nil {
		in.b.log.Warn("kubernetes backend: delete pod", "instance", in.id, "err", err)
	}
}

// watch follows the Pod until it ends or the instance's life ends,
// re-establishing the watch when the API server closes it.
func (in *instance) watch() {
	rv := in.rv
	delay := 100 * time.Millisecond
	for in.life.Err() == nil {
		w, err := in.b.pods.Watch(in.life, metav1.ListOptions{
			FieldSelector: "metadata.name=" + in.pod, ResourceVersion: rv, AllowWatchBookmarks: true,
		})
		if err != nil {
			if in.life.Err() != nil {
				return
			}
			in.b.log.Warn("kubernetes backend: watch pod", "pod", in.pod, "err", err)
			if !in.wait(delay) {
				return
			}
			if delay < 5*time.Second {
				delay *= 2
			}
			rv = in.refresh()
			if rv == "" {
				return
			}
			continue
		}
		ended, gone := in.follow(w, &rv)
		w.Stop()
		if ended {
			return
		}
		if gone {
			// Our resourceVersion is too old: look again.
			rv = in.refresh()
			if rv == "" {
				return
			}
		}
	}
}

// follow reads one watch until it closes or the Pod ends.
func (in *instance) follow(w watch.Interface, rv *string) (ended, gone bool) {
	for ev := range w.ResultChan() {
		switch ev.Type {
		case watch.Added, watch.Modified:
			p, ok := ev.Object.(*corev1.Pod)
			if !ok {
				continue
			}
			*rv = p.ResourceVersion
			if in.observe(p) {
				return true, false
			}
		case watch.Deleted:
			in.end(errors.New("pod deleted"), nil, nil)
			return true, false
		case watch.Bookmark:
			if p, ok := ev.Object.(*corev1.Pod); ok {
				*rv = p.ResourceVersion
			}
		case watch.Error:
			return false, apierrors.IsResourceExpired(apierrors.FromObject(ev.Object)) ||
				apierrors.IsGone(apierrors.FromObject(ev.Object))
		}
	}
	return false, false
}

// refresh reads the Pod after a broken watch; "" when it is gone (recorded)
// or the instance's life ended.
func (in *instance) refresh() string {
	for in.life.Err() == nil {
		p, err := in.b.pods.Get(in.life, in.pod, metav1.GetOptions{})
		if apierrors.IsNotFound(err) {
			in.end(errors.New("pod deleted"), nil, nil)
			return ""
		}
		if err == nil {
			if in.observe(p) {
				return ""
			}
			return p.ResourceVersion
		}
		if !in.wait(time.Second) {
			return ""
		}
	}
	return ""
}

func (in *instance) wait(d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-in.life.Done():
		return false
	}
}

// Waiting reasons that mean a container will never start without help.
var fatalWaiting = map[string]bool{
	"ErrImagePull": true, "ImagePullBackOff": true, "ErrImageNeverPull": true, "InvalidImageName": true,
	"CreateContainerConfigError": true, "CreateContainerError": true, "RunContainerError": true,
}

// observe records what a Pod's status says; true once the Pod has ended.
func (in *instance) observe(p *corev1.Pod) bool {
	if p.DeletionTimestamp != nil {
		in.end(errors.New("pod is being deleted"), nil, in.containerExit(p))
		return true
	}
	for _, cs := range p.Status.InitContainerStatuses {
		if w := cs.State.Waiting; w != nil && fatalWaiting[w.Reason] {
			err := fmt.Errorf("kubernetes backend: pod %s: init container: %s: %s", in.pod, w.Reason, w.Message)
			in.end(err, err, nil)
			return true
		}
		if t := cs.State.Terminated; t != nil && t.ExitCode != 0 {
			err := fmt.Errorf("kubernetes backend: pod %s: init container failed (exit %d, %s): %s", in.pod, t.ExitCode, t.Reason, t.Message)
			in.end(err, err, nil)
			return true
		}
	}
	for _, cs := range p.Status.ContainerStatuses {
		if cs.Name != mainContainer {
			continue
		}
		if w := cs.State.Waiting; w != nil && fatalWaiting[w.Reason] {
			err := fmt.Errorf("kubernetes backend: pod %s: %s: %s", in.pod, w.Reason, w.Message)
			in.end(err, err, nil)
			return true
		}
	}
	// The kubelet reports the Pod's IP once its sandbox exists, typically while
	// the init container runs, and reports the main container running only at
	// its next status sync (up to a second later). Dialling the agent from the
	// IP on is what makes cold starts short; until the agent listens, the Pod
	// refuses the connection at once.
	if p.Status.PodIP != "" {
		select {
		case <-in.started:
		default:
			in.podIP = p.Status.PodIP
			close(in.started)
		}
	}
	switch p.Status.Phase {
	case corev1.PodFailed, corev1.PodSucceeded:
		in.end(fmt.Errorf("pod %s: %s %s", p.Status.Phase, p.Status.Reason, p.Status.Message), nil, in.containerExit(p))
		return true
	}
	in.pendMu.Lock()
	in.pendWhy = pendingReason(p)
	in.pendMu.Unlock()
	return false
}

// containerExit is the main container's exit as the kubelet reports it.
func (in *instance) containerExit(p *corev1.Pod) *backend.ExitError {
	for _, cs := range p.Status.ContainerStatuses {
		if cs.Name != mainContainer || cs.State.Terminated == nil {
			continue
		}
		t := cs.State.Terminated
		xe := &backend.ExitError{Code: int(t.ExitCode), OOM: t.Reason == "OOMKilled", Log: []byte(t.Message)}
		if t.Signal != 0 || t.ExitCode > 128 {
			xe.Code, xe.Signal = -1, "killed"
		}
		return xe
	}
	return nil
}

// pendingReason says why a Pod does not run yet, for a timeout's message.
func pendingReason(p *corev1.Pod) string {
	for _, c := range p.Status.Conditions {
		if c.Status != corev1.ConditionTrue && c.Message != "" {
			return fmt.Sprintf("%s: %s", c.Reason, c.Message)
		}
	}
	for _, cs := range append(append([]corev1.ContainerStatus(nil), p.Status.InitContainerStatuses...), p.Status.ContainerStatuses...) {
		if w := cs.State.Waiting; w != nil && w.Reason != "" {
			return fmt.Sprintf("%s: %s %s", cs.Name, w.Reason, w.Message)
		}
	}
	return "phase " + string(p.Status.Phase)
}

// end records the Pod's end once and closes podEnd.
func (in *instance) end(why, fatal error, exit *backend.ExitError) {
	in.endOnce.Do(func() {
		in.endWhy, in.fatal, in.podExit = why, fatal, exit
		close(in.podEnd)
		in.goneFn()
	})
}

// connect opens the event stream. The agent listens within milliseconds of
// its container starting, so dialling is retried with a short backoff until
// it answers or ctx ends (the Pod ended or Stop was called).
func (in *instance) connect(ctx context.Context) (*agentapi.EventStream, error) {
	delay := time.Millisecond
	for {
		es, err := in.client.Events(ctx)
		if err == nil {
			return es, nil
		}
		if !agentapi.IsDialError(err) || ctx.Err() != nil {
			return nil, err
		}
		t := time.NewTimer(delay)
		select {
		case <-t.C:
		case <-ctx.Done():
			t.Stop()
			return nil, ctx.Err()
		}
		if delay < 50*time.Millisecond {
			delay *= 2
		}
	}
}

// consume hands events on until the exit event or the stream's end.
func (in *instance) consume(es *agentapi.EventStream) (*agentapi.Event, error) {
	for {
		ev, err := es.Next()
		if err != nil {
			return nil, err
		}
		switch ev.Type {
		case agentapi.EventReady:
			select {
			case <-in.ready:
			default:
				close(in.ready)
			}
		case agentapi.EventInitError:
			select {
			case in.initErr <- &backend.InitError{FunctionError: backend.FunctionError{Type: ev.ErrorType, Body: ev.ErrorBody}}:
			default:
			}
		case agentapi.EventLog:
			in.logLine(ev.Line, ev.Seq)
		case agentapi.EventExit:
			return ev, nil
		}
	}
}

func (in *instance) logLine(line []byte, seq uint64) {
	in.logMu.Lock()
	defer in.logMu.Unlock()
	if in.spec.Log != nil {
		in.spec.Log(line) // under the lock: calls are serialised
	}
	in.tail = append(in.tail, line...)
	in.tail = append(in.tail, '\n')
	if over := len(in.tail) - maxTail; over > 0 {
		in.tail = append(in.tail[:0], in.tail[over:]...)
	}
	if seq > in.logSeq {
		in.logSeq = seq
	}
	close(in.logMoved)
	in.logMoved = make(chan struct{})
}

// waitLog waits until Spec.Log has seen line seq, the instance ended or ctx ended.
func (in *instance) waitLog(ctx context.Context, seq uint64) {
	for {
		in.logMu.Lock()
		if in.logSeq >= seq {
			in.logMu.Unlock()
			return
		}
		moved := in.logMoved
		in.logMu.Unlock()
		select {
		case <-moved:
		case <-in.exited.Done():
			return
		case <-ctx.Done():
			return
		}
	}
}

// ID implements backend.Instance.
func (in *instance) ID() string { return in.id }

// InitDuration implements backend.Instance: Pod creation to the runtime's
// first /next (scheduling, the init container and the runtime's init).
func (in *instance) InitDuration() time.Duration { return in.initDur }

// Done implements backend.Instance.
func (in *instance) Done() <-chan struct{} { return in.done }

// Stop implements backend.Instance: it deletes the Pod (its short grace
// period lets the agent stop the runtime) and waits for run to finish.
func (in *instance) Stop(ctx context.Context) error {
	in.stopOnce.Do(func() {
		in.stopping.Store(true)
		in.markExit()
		dctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
		defer cancel()
		if err := in.b.deletePod(dctx, in.pod); err != nil {
			in.b.log.Warn("kubernetes backend: stop", "instance", in.id, "err", err)
		}
		in.endLife()
	})
	select {
	case <-in.done:
		return nil
	case <-ctx.Done():
		return fmt.Errorf("stop instance %s: %w", in.id, ctx.Err())
	}
}

// Invoke implements backend.Instance.
func (in *instance) Invoke(ctx context.Context, inv *backend.Invocation) (*backend.Response, error) {
	if in.exited.Err() != nil {
		return nil, fmt.Errorf("instance %s exited: %w", in.id, backend.ErrNotDelivered)
	}
	ictx, cancel := context.WithCancel(ctx)
	unwatch := context.AfterFunc(in.exited, cancel)
	release := func() { unwatch(); cancel() }
	resp, err := in.client.Invoke(ictx, &agentapi.Invocation{
		RequestID: inv.RequestID, Payload: inv.Payload, Deadline: inv.Deadline,
		InvokedFunctionARN: inv.InvokedFunctionARN, TraceID: inv.TraceID,
		ClientContext: inv.ClientContext, CognitoIdentity: inv.CognitoIdentity,
		StreamResponse: inv.StreamResponse,
	})
	if err != nil {
		release()
		if errors.Is(err, agentapi.ErrNotDelivered) {
			return nil, fmt.Errorf("invoke instance %s: %w: %w", in.id, backend.ErrNotDelivered, err)
		}
		if xe := in.exitFor(ctx, err); xe != nil {
			return nil, xe
		}
		return nil, fmt.Errorf("invoke instance %s: %w", in.id, err)
	}
	r := &backend.Response{
		ErrorType: resp.ErrorType, Streaming: resp.Streaming, ContentType: resp.ContentType,
		Trailer: func() *backend.FunctionError {
			if typ, body := resp.Trailer(); typ != "" {
				return &backend.FunctionError{Type: typ, Body: body}
			}
			return nil
		},
		Log: func() []byte {
			log, seq := resp.Log()
			in.waitLog(ctx, seq) // so that Spec.Log has every line of the call first
			return log
		},
		MaxMemoryUsedMB: resp.MaxMemoryUsedMB,
	}
	r.Body = &body{rc: resp.Body, in: in, ctx: ctx, release: release}
	return r, nil
}

// exitFor returns the instance's ExitError when err was caused by the
// runtime or Pod exiting (and not by ctx ending), waiting for the exit to be
// recorded; nil otherwise.
func (in *instance) exitFor(ctx context.Context, err error) error {
	if ctx.Err() != nil {
		return nil
	}
	if in.exited.Err() == nil && !errors.Is(err, agentapi.ErrRuntimeExited) {
		return nil
	}
	select {
	case <-in.done:
	case <-ctx.Done():
		return nil
	}
	if in.stopping.Load() {
		return nil
	}
	return in.exitErr
}

// body turns a read failure caused by the runtime exiting into its ExitError.
type body struct {
	rc      io.ReadCloser
	in      *instance
	ctx     context.Context
	release func()
	once    sync.Once
}

func (b *body) Read(p []byte) (int, error) {
	n, err := b.rc.Read(p)
	if err == nil {
		return n, nil
	}
	b.once.Do(b.release)
	if !errors.Is(err, io.EOF) {
		if xe := b.in.exitFor(b.ctx, err); xe != nil {
			return n, xe
		}
	}
	return n, err
}

func (b *body) Close() error {
	err := b.rc.Close()
	b.once.Do(b.release)
	return err
}
