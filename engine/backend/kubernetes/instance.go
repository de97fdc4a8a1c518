package kubernetes

import (
	"context"
	"errors"
	"fmt"
	"net"
	"strconv"
	"sync"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/watch"

	"github.com/lambhq/lamb/agent/agentapi"
	"github.com/lambhq/lamb/engine/agenthost"
	"github.com/lambhq/lamb/engine/backend"
)

// instance is one Pod whose main container runs the agent, which runs the
// runtime; the embedded Host is the host side of the agent.
type instance struct {
	*agenthost.Host
	b      *Backend
	pod    string
	secret string // the agent's (agentapi.EnvSecret)
	arts   []backend.Artifact
	rv     string // resourceVersion to watch from

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
	stopped   error // Stop came before the Pod started (for messages)
	exitKnown bool  // the recorded exit holds a real exit status (from the agent or the kubelet)
}

// Launch implements backend.Backend: create the Pod, watch it until its main
// container runs, open the agent's event stream at the Pod IP and wait for
// the runtime's ready event.
func (b *Backend) Launch(ctx context.Context, spec *backend.Spec) (backend.Instance, error) {
	if spec.InstanceID == "" {
		return nil, errors.New("kubernetes backend: empty instance id")
	}
	// The agent answers only requests with this secret: other Pods that reach
	// the Pod IP, and the function itself, cannot drive it.
	secret := agentapi.NewSecret()
	pod, err := b.cfg.podFor(spec, b.token, secret)
	if err != nil {
		return nil, err
	}
	var arts []backend.Artifact
	if spec.Code.SHA256 != "" {
		arts = append(arts, spec.Code)
	}
	arts = append(arts, spec.Layers...)
	in := &instance{b: b, pod: pod.Name, secret: secret, arts: arts, started: make(chan struct{}), podEnd: make(chan struct{})}
	// Stop deletes the Pod (its short grace period lets the agent stop the runtime).
	// The answer and the log lines come over two connections: Response.Log
	// waits a bounded time for the lines, not for the caller's ctx, which
	// may be over once the body is read.
	in.Host = agenthost.New(agenthost.Config{ID: spec.InstanceID, Log: spec.Log, Kill: in.kill, LogWait: 5 * time.Second,
		API: b.cfg.API, Logger: b.log})
	in.podGone, in.goneFn = context.WithCancel(context.Background())
	if err := b.arts.add(arts...); err != nil {
		return nil, fmt.Errorf("kubernetes backend: %w", err)
	}
	if err := b.live.Add(in); err != nil {
		b.arts.release(arts...)
		return nil, fmt.Errorf("kubernetes backend: %w", err)
	}
	start := time.Now()
	created, err := b.pods.Create(ctx, pod, metav1.CreateOptions{})
	if err != nil {
		b.arts.release(arts...)
		b.live.Remove(in)
		in.Abort() // a concurrent Close may be waiting in Stop
		return nil, fmt.Errorf("kubernetes backend: create pod %s: %w", pod.Name, err)
	}
	in.rv = created.ResourceVersion
	go in.run()

	tctx, cancel := context.WithTimeout(ctx, b.cfg.StartTimeout)
	defer cancel()
	switch err := in.WaitReady(tctx, start); {
	case err == nil:
		return in, nil
	case errors.Is(err, agenthost.ErrEnded):
		if in.fatal != nil {
			return nil, in.fatal
		}
		if in.exitKnown {
			return nil, in.ExitErr()
		}
		return nil, fmt.Errorf("kubernetes backend: pod %s ended before it was ready: %w", in.pod, errors.Join(in.endWhy, in.EventsErr(), in.stopped))
	case errors.As(err, new(*backend.InitError)):
		return nil, err
	default:
		in.pendMu.Lock()
		why := in.pendWhy
		in.pendMu.Unlock()
		return nil, fmt.Errorf("kubernetes backend: waiting for pod %s (%s): %w", in.pod, why, err)
	}
}

// kill deletes the Pod, for Stop.
func (in *instance) kill(ctx context.Context) {
	if err := in.b.deletePod(ctx, in.pod); err != nil {
		in.b.log.Warn("kubernetes backend: stop", "instance", in.ID(), "err", err)
	}
}

// run owns the instance's life: it runs the Pod watcher, then the agent's
// event stream until the runtime or the Pod ends, records the exit, deletes
// the Pod and closes Done.
func (in *instance) run() {
	defer in.CloseDone()
	defer in.b.arts.release(in.arts...)
	defer in.b.live.Remove(in)
	watchDone := make(chan struct{})
	go func() { defer close(watchDone); in.watch() }()

	var exitEv *agentapi.Event
	select {
	case <-in.started:
		// The stream ends with the Pod: a deleted Pod's connection may never
		// see a FIN, so the watcher's verdict cancels it.
		sctx, cancel := context.WithCancel(in.Life())
		stopWatching := context.AfterFunc(in.podGone, cancel)
		exitEv = in.Follow(sctx, agentapi.NewClient(net.JoinHostPort(in.podIP, strconv.Itoa(agentPort)), in.secret))
		stopWatching()
		cancel()
	case <-in.podEnd:
	case <-in.Life().Done():
		in.stopped = in.Life().Err()
	}

	xe := in.MarkExited(exitEv)
	if exitEv != nil {
		in.exitKnown = true
	} else if !in.Stopping() {
		// The Pod's own view of the exit, which the watcher sees shortly.
		t := time.NewTimer(10 * time.Second)
		select {
		case <-in.podEnd:
		case <-in.Life().Done():
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
	in.RecordExit(xe)
	<-watchDone
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := in.b.deletePod(ctx, in.pod); err != nil {
		in.b.log.Warn("kubernetes backend: delete pod", "instance", in.ID(), "err", err)
	}
}

// watch follows the Pod until it ends or the instance's life ends,
// re-establishing the watch when the API server closes it.
func (in *instance) watch() {
	rv := in.rv
	delay := 100 * time.Millisecond
	for in.Life().Err() == nil {
		w, err := in.b.pods.Watch(in.Life(), metav1.ListOptions{
			FieldSelector: "metadata.name=" + in.pod, ResourceVersion: rv, AllowWatchBookmarks: true,
		})
		if err != nil {
			if in.Life().Err() != nil {
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
	for in.Life().Err() == nil {
		p, err := in.b.pods.Get(in.Life(), in.pod, metav1.GetOptions{})
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
	case <-in.Life().Done():
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
