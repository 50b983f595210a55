package poddiag

import (
	"context"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes/fake"
)

// The fake clientset stands in for an apiserver here because the states
// described (image pulls failing, crash loops, kubelet events) are written
// by a kubelet, which no in-process apiserver has.
func TestNotReadyDescribesStuckPods(t *testing.T) {
	ns := "kube-system"
	now := metav1.NewTime(time.Now())
	ready := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: "ok", Namespace: ns},
		Status: corev1.PodStatus{Phase: corev1.PodRunning, Conditions: []corev1.PodCondition{{Type: corev1.PodReady, Status: corev1.ConditionTrue}}}}
	unscheduled := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: "sched", Namespace: ns},
		Status: corev1.PodStatus{Phase: corev1.PodPending, Conditions: []corev1.PodCondition{{Type: corev1.PodScheduled, Status: corev1.ConditionFalse, Message: "0/1 nodes are available"}}}}
	pull := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: "pull", Namespace: ns}, Spec: corev1.PodSpec{NodeName: "n1"},
		Status: corev1.PodStatus{Phase: corev1.PodPending, ContainerStatuses: []corev1.ContainerStatus{{Name: "c", Image: "registry.example/x:1",
			State: corev1.ContainerState{Waiting: &corev1.ContainerStateWaiting{Reason: "ImagePullBackOff", Message: "pull failed"}}}}}}
	crash := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: "crash", Namespace: ns}, Spec: corev1.PodSpec{NodeName: "n1"},
		Status: corev1.PodStatus{Phase: corev1.PodRunning, ContainerStatuses: []corev1.ContainerStatus{{Name: "c", RestartCount: 4,
			State:                corev1.ContainerState{Waiting: &corev1.ContainerStateWaiting{Reason: "CrashLoopBackOff"}},
			LastTerminationState: corev1.ContainerState{Terminated: &corev1.ContainerStateTerminated{ExitCode: 1, Reason: "Error", Message: "flag provided but not defined\nusage"}}}}}}
	probe := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: "probe", Namespace: ns}, Spec: corev1.PodSpec{NodeName: "n1"},
		Status: corev1.PodStatus{Phase: corev1.PodRunning, ContainerStatuses: []corev1.ContainerStatus{{Name: "c",
			State: corev1.ContainerState{Running: &corev1.ContainerStateRunning{StartedAt: now}}}}}}
	ev := &corev1.Event{ObjectMeta: metav1.ObjectMeta{Name: "e1", Namespace: ns}, InvolvedObject: corev1.ObjectReference{Name: "crash"},
		Type: "Warning", Reason: "BackOff", Message: "Back-off restarting failed container", LastTimestamp: now}
	cs := fake.NewSimpleClientset(ready, unscheduled, pull, crash, probe, ev)

	out := NotReady(context.Background(), cs, ns)
	for _, want := range []string{
		"pod kube-system/sched on node \"\": phase Pending",
		"condition PodScheduled: 0/1 nodes are available",
		"likely cause: not scheduled",
		"container c: waiting (ImagePullBackOff) pull failed, 0 restarts",
		"likely cause: image registry.example/x:1 is not on the node",
		"container c: waiting (CrashLoopBackOff) , 4 restarts",
		"last termination: exit 1 (Error) flag provided but not defined | usage",
		"event Warning BackOff: Back-off restarting failed container",
		"kubectl -n kube-system logs crash -c c --previous",
		"likely cause: container c runs but fails its readiness probe",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
	if strings.Contains(out, "pod kube-system/ok ") {
		t.Errorf("a ready pod is described:\n%s", out)
	}
	if got := NotReady(context.Background(), fake.NewSimpleClientset(ready), ns); got != "  every pod in kube-system is ready" {
		t.Errorf("all ready: %q", got)
	}
	if s := Summary(crash); !strings.Contains(s, "phase Running; container c waiting: CrashLoopBackOff") {
		t.Errorf("Summary = %q", s)
	}
}
