package poddiag

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/fields"
	"k8s.io/client-go/kubernetes"
)

// NotReady describes every pod of a namespace that is not ready: its
// containers' states, restarts, last termination messages, its recent
// events and the likely cause. It is what `start` prints on a timeout.
func NotReady(ctx context.Context, cs kubernetes.Interface, ns string) string {
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	pods, err := cs.CoreV1().Pods(ns).List(ctx, metav1.ListOptions{})
	if err != nil {
		return fmt.Sprintf("  could not list pods in %s: %v", ns, err)
	}
	var b strings.Builder
	for i := range pods.Items {
		p := &pods.Items[i]
		if Ready(p) {
			continue
		}
		fmt.Fprintf(&b, "  pod %s/%s on node %q: phase %s\n", p.Namespace, p.Name, p.Spec.NodeName, p.Status.Phase)
		for _, c := range p.Status.Conditions {
			if c.Status != corev1.ConditionTrue && c.Message != "" {
				fmt.Fprintf(&b, "    condition %s: %s\n", c.Type, c.Message)
			}
		}
		for _, cs := range append(append([]corev1.ContainerStatus{}, p.Status.InitContainerStatuses...), p.Status.ContainerStatuses...) {
			fmt.Fprintf(&b, "    container %s: %s, %d restarts\n", cs.Name, containerState(cs.State), cs.RestartCount)
			if t := cs.LastTerminationState.Terminated; t != nil {
				fmt.Fprintf(&b, "      last termination: exit %d (%s) %s\n", t.ExitCode, t.Reason, firstLines(t.Message, 5))
			}
		}
		for _, e := range LastEvents(ctx, cs, p.Namespace, p.Name, 3) {
			fmt.Fprintf(&b, "    event %s %s: %s\n", e.Type, e.Reason, e.Message)
		}
		if cause := likelyCause(p); cause != "" {
			fmt.Fprintf(&b, "    likely cause: %s\n", cause)
		}
	}
	if b.Len() == 0 {
		return "  every pod in " + ns + " is ready"
	}
	return b.String()
}

// Ready says whether the pod is Ready (or completed: nothing is stuck).
func Ready(p *corev1.Pod) bool {
	for _, c := range p.Status.Conditions {
		if c.Type == corev1.PodReady {
			return c.Status == corev1.ConditionTrue
		}
	}
	return p.Status.Phase == corev1.PodSucceeded
}

func containerState(s corev1.ContainerState) string {
	switch {
	case s.Waiting != nil:
		return fmt.Sprintf("waiting (%s) %s", s.Waiting.Reason, firstLines(s.Waiting.Message, 3))
	case s.Terminated != nil:
		return fmt.Sprintf("terminated, exit %d (%s) %s", s.Terminated.ExitCode, s.Terminated.Reason, firstLines(s.Terminated.Message, 3))
	case s.Running != nil:
		return "running since " + s.Running.StartedAt.Format(time.RFC3339) + ", not ready"
	}
	return "not started"
}

// LastEvents returns the newest n events of an object, oldest first (best
// effort: none when they cannot be listed).
func LastEvents(ctx context.Context, cs kubernetes.Interface, namespace, name string, n int) []corev1.Event {
	evs, err := cs.CoreV1().Events(namespace).List(ctx, metav1.ListOptions{
		FieldSelector: fields.OneTermEqualSelector("involvedObject.name", name).String(),
	})
	if err != nil {
		return nil
	}
	items := evs.Items
	sort.SliceStable(items, func(i, j int) bool { return eventTime(items[i]).Before(eventTime(items[j])) })
	if len(items) > n {
		items = items[len(items)-n:]
	}
	return items
}

func eventTime(e corev1.Event) time.Time {
	switch {
	case !e.LastTimestamp.IsZero():
		return e.LastTimestamp.Time
	case !e.EventTime.IsZero():
		return e.EventTime.Time
	}
	return e.CreationTimestamp.Time
}

// Summary is a one-line description of a pod's state, for logs.
func Summary(p *corev1.Pod) string {
	var b strings.Builder
	fmt.Fprintf(&b, "phase %s", p.Status.Phase)
	if p.Status.Reason != "" {
		fmt.Fprintf(&b, " (%s: %s)", p.Status.Reason, p.Status.Message)
	}
	for _, c := range p.Status.Conditions {
		if c.Status != corev1.ConditionTrue {
			fmt.Fprintf(&b, "; %s=%s %s", c.Type, c.Status, c.Reason)
		}
	}
	for _, cs := range p.Status.ContainerStatuses {
		switch {
		case cs.State.Waiting != nil:
			fmt.Fprintf(&b, "; container %s waiting: %s %s", cs.Name, cs.State.Waiting.Reason, cs.State.Waiting.Message)
		case cs.State.Terminated != nil:
			fmt.Fprintf(&b, "; container %s terminated: %s exit %d", cs.Name, cs.State.Terminated.Reason, cs.State.Terminated.ExitCode)
		case cs.State.Running != nil:
			fmt.Fprintf(&b, "; container %s running ready=%v restarts=%d", cs.Name, cs.Ready, cs.RestartCount)
		}
	}
	return b.String()
}

// likelyCause turns the common failure states into advice.
func likelyCause(p *corev1.Pod) string {
	if p.Spec.NodeName == "" {
		return "not scheduled: no scheduler is running yet, or no node matches its nodeSelector/tolerations (is the node labelled node-role.kubernetes.io/control-plane?)"
	}
	for _, cs := range p.Status.ContainerStatuses {
		if w := cs.State.Waiting; w != nil {
			switch w.Reason {
			case "ErrImagePull", "ImagePullBackOff", "ErrImageNeverPull":
				return fmt.Sprintf("image %s is not on the node and cannot be pulled: import it into containerd's k8s.io namespace (ctr -n k8s.io images import) or fix images.* in the configuration", cs.Image)
			case "CrashLoopBackOff":
				return fmt.Sprintf("container %s keeps exiting: read its log (kubectl -n %s logs %s -c %s --previous) or the kubelet's pod log dir", cs.Name, p.Namespace, p.Name, cs.Name)
			case "CreateContainerConfigError":
				return "a Secret or ConfigMap the pod mounts is missing: re-run bootstrap start (it re-applies the asset dir)"
			}
		}
		if cs.State.Running != nil && !cs.Ready {
			return fmt.Sprintf("container %s runs but fails its readiness probe: check its log and the probe's endpoint", cs.Name)
		}
	}
	return ""
}

func firstLines(s string, n int) string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	if len(lines) > n {
		lines = append(lines[:n], "...")
	}
	return strings.Join(lines, " | ")
}
