package start

import (
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

func TestContainersRunning(t *testing.T) {
	running := corev1.ContainerStatus{State: corev1.ContainerState{Running: &corev1.ContainerStateRunning{}}}
	waiting := corev1.ContainerStatus{State: corev1.ContainerState{Waiting: &corev1.ContainerStateWaiting{Reason: "ContainerCreating"}}}
	for _, tc := range []struct {
		name     string
		spec     int
		statuses []corev1.ContainerStatus
		want     bool
	}{
		{"no status yet", 1, nil, false},
		{"running", 1, []corev1.ContainerStatus{running}, true},
		{"waiting", 1, []corev1.ContainerStatus{waiting}, false},
		{"one of two running", 2, []corev1.ContainerStatus{running, waiting}, false},
		{"status for one of two containers", 2, []corev1.ContainerStatus{running}, false},
	} {
		p := &corev1.Pod{}
		p.Spec.Containers = make([]corev1.Container, tc.spec)
		p.Status.ContainerStatuses = tc.statuses
		if got := containersRunning(p); got != tc.want {
			t.Errorf("%s: containersRunning = %v, want %v", tc.name, got, tc.want)
		}
	}
}

func TestContainersStartedSince(t *testing.T) {
	began := time.Date(2026, 12, 6, 12, 0, 0, 0, time.UTC)
	at := func(d time.Duration) corev1.ContainerStatus {
		return corev1.ContainerStatus{State: corev1.ContainerState{Running: &corev1.ContainerStateRunning{StartedAt: metav1.NewTime(began.Add(d))}}}
	}
	waiting := corev1.ContainerStatus{State: corev1.ContainerState{Waiting: &corev1.ContainerStateWaiting{Reason: "ContainerCreating"}}}
	for _, tc := range []struct {
		name     string
		statuses []corev1.ContainerStatus
		want     bool
	}{
		{"no status (a restored pod the kubelet has not seen)", nil, false},
		{"started in the run's first second", []corev1.ContainerStatus{at(0)}, true},
		{"started later in the run", []corev1.ContainerStatus{at(3 * time.Second)}, true},
		{"status of the backup's time", []corev1.ContainerStatus{at(-10 * time.Minute)}, false},
		{"one container from before the run", []corev1.ContainerStatus{at(2 * time.Second), at(-time.Second)}, false},
		{"one container not running", []corev1.ContainerStatus{at(2 * time.Second), waiting}, false},
	} {
		p := &corev1.Pod{}
		p.Status.ContainerStatuses = tc.statuses
		if got := containersStartedSince(p, began); got != tc.want {
			t.Errorf("%s: containersStartedSince = %v, want %v", tc.name, got, tc.want)
		}
	}
}
