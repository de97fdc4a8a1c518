package kubernetes

import (
	"context"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

func newObserved() *instance {
	in := &instance{pod: "lamb-x", started: make(chan struct{}), podEnd: make(chan struct{})}
	in.podGone, in.goneFn = context.WithCancel(context.Background())
	return in
}

func closed(ch <-chan struct{}) bool {
	select {
	case <-ch:
		return true
	default:
		return false
	}
}

// observe turns Pod statuses into the instance's view: started (an IP to
// dial), ended (with or without a fatal launch error and an exit status).
func TestObserve(t *testing.T) {
	now := metav1.Now()
	running := corev1.ContainerState{Running: &corev1.ContainerStateRunning{}}
	cases := []struct {
		name      string
		pod       corev1.Pod
		ended     bool
		started   bool
		fatal     string // part of the fatal error; "" = none
		exitCode  int
		oom, exit bool
	}{
		{name: "pending, unscheduled", pod: corev1.Pod{Status: corev1.PodStatus{Phase: corev1.PodPending,
			Conditions: []corev1.PodCondition{{Type: corev1.PodScheduled, Status: corev1.ConditionFalse, Reason: "Unschedulable", Message: "0/1 nodes"}}}}},
		{name: "init running with an IP", pod: corev1.Pod{Status: corev1.PodStatus{Phase: corev1.PodPending, PodIP: "10.244.0.7",
			InitContainerStatuses: []corev1.ContainerStatus{{Name: initContainer, State: running}}}}, started: true},
		{name: "running", pod: corev1.Pod{Status: corev1.PodStatus{Phase: corev1.PodRunning, PodIP: "10.244.0.7",
			ContainerStatuses: []corev1.ContainerStatus{{Name: mainContainer, State: running}}}}, started: true},
		{name: "init image missing", pod: corev1.Pod{Status: corev1.PodStatus{Phase: corev1.PodPending,
			InitContainerStatuses: []corev1.ContainerStatus{{Name: initContainer, State: corev1.ContainerState{Waiting: &corev1.ContainerStateWaiting{Reason: "ErrImageNeverPull", Message: "lamb:x not present"}}}}}},
			ended: true, fatal: "ErrImageNeverPull"},
		{name: "runtime image pull backoff", pod: corev1.Pod{Status: corev1.PodStatus{Phase: corev1.PodPending,
			ContainerStatuses: []corev1.ContainerStatus{{Name: mainContainer, State: corev1.ContainerState{Waiting: &corev1.ContainerStateWaiting{Reason: "ImagePullBackOff"}}}}}},
			ended: true, fatal: "ImagePullBackOff"},
		{name: "init container failed", pod: corev1.Pod{Status: corev1.PodStatus{Phase: corev1.PodFailed,
			InitContainerStatuses: []corev1.ContainerStatus{{Name: initContainer, State: corev1.ContainerState{Terminated: &corev1.ContainerStateTerminated{ExitCode: 1, Reason: "Error", Message: "refused the token"}}}}}},
			ended: true, fatal: "refused the token"},
		{name: "being deleted", pod: corev1.Pod{ObjectMeta: metav1.ObjectMeta{DeletionTimestamp: &now},
			Status: corev1.PodStatus{Phase: corev1.PodRunning, PodIP: "10.244.0.7", ContainerStatuses: []corev1.ContainerStatus{{Name: mainContainer, State: running}}}},
			ended: true},
		{name: "evicted", pod: corev1.Pod{Status: corev1.PodStatus{Phase: corev1.PodFailed, Reason: "Evicted",
			ContainerStatuses: []corev1.ContainerStatus{{Name: mainContainer, State: corev1.ContainerState{Terminated: &corev1.ContainerStateTerminated{ExitCode: 137, Reason: "Error"}}}}}},
			ended: true, exit: true, exitCode: -1},
		{name: "oom killed", pod: corev1.Pod{Status: corev1.PodStatus{Phase: corev1.PodFailed,
			ContainerStatuses: []corev1.ContainerStatus{{Name: mainContainer, State: corev1.ContainerState{Terminated: &corev1.ContainerStateTerminated{ExitCode: 137, Reason: "OOMKilled"}}}}}},
			ended: true, exit: true, exitCode: -1, oom: true},
		{name: "runtime exited 3", pod: corev1.Pod{Status: corev1.PodStatus{Phase: corev1.PodFailed,
			ContainerStatuses: []corev1.ContainerStatus{{Name: mainContainer, State: corev1.ContainerState{Terminated: &corev1.ContainerStateTerminated{ExitCode: 3, Reason: "Error"}}}}}},
			ended: true, exit: true, exitCode: 3},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			in := newObserved()
			if got := in.observe(&c.pod); got != c.ended {
				t.Fatalf("observe = %v, want %v", got, c.ended)
			}
			if closed(in.podEnd) != c.ended || (in.podGone.Err() != nil) != c.ended {
				t.Fatalf("podEnd closed %v, want %v", closed(in.podEnd), c.ended)
			}
			if c.started != closed(in.started) {
				t.Fatalf("started %v, want %v", closed(in.started), c.started)
			}
			if c.started && in.podIP != "10.244.0.7" {
				t.Fatalf("pod IP %q", in.podIP)
			}
			if (c.fatal != "") != (in.fatal != nil) || c.fatal != "" && !strings.Contains(in.fatal.Error(), c.fatal) {
				t.Fatalf("fatal %v, want one mentioning %q", in.fatal, c.fatal)
			}
			if c.exit != (in.podExit != nil) {
				t.Fatalf("exit %+v, want one: %v", in.podExit, c.exit)
			}
			if c.exit && (in.podExit.Code != c.exitCode || in.podExit.OOM != c.oom) {
				t.Fatalf("exit %+v, want code %d oom %v", in.podExit, c.exitCode, c.oom)
			}
			if !c.ended && !c.started && in.pendWhy == "" {
				t.Fatal("no pending reason recorded")
			}
		})
	}
}
