package start

import (
	"testing"

	corev1 "k8s.io/api/core/v1"
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
