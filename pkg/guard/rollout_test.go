package guard

import (
	"context"
	"strings"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/kubernetes/fake"
	"k8s.io/utils/ptr"

	"github.com/bootstrap-k8s/bootstrap/pkg/assets"
)

var t0 = time.Date(2026, 12, 6, 6, 50, 0, 0, time.UTC)

func apiserverDS() *appsv1.DaemonSet {
	return &appsv1.DaemonSet{
		ObjectMeta: metav1.ObjectMeta{Name: assets.KubeAPIServer, Namespace: assets.KubeSystem, UID: "ds-uid", Generation: 2},
		Spec:       appsv1.DaemonSetSpec{MinReadySeconds: 10},
	}
}

// apiserverPod is a kube-apiserver pod of template generation gen on node,
// Ready since readyAt (zero: not Ready).
func apiserverPod(name, node, gen string, readyAt time.Time, owner types.UID) corev1.Pod {
	p := corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: assets.KubeSystem,
			Labels:          map[string]string{assets.ComponentLabel: assets.KubeAPIServer, "pod-template-generation": gen},
			OwnerReferences: []metav1.OwnerReference{{APIVersion: "apps/v1", Kind: "DaemonSet", Name: assets.KubeAPIServer, UID: owner, Controller: ptr.To(true)}}},
		Spec: corev1.PodSpec{NodeName: node},
	}
	cond := corev1.PodCondition{Type: corev1.PodReady, Status: corev1.ConditionFalse}
	if !readyAt.IsZero() {
		cond = corev1.PodCondition{Type: corev1.PodReady, Status: corev1.ConditionTrue, LastTransitionTime: metav1.NewTime(readyAt)}
	}
	p.Status.Conditions = []corev1.PodCondition{cond}
	return p
}

// TestStalledSurge: only a new pod available past minReadySeconds + grace
// beside an old, not terminating pod of the same DaemonSet is a stall.
func TestStalledSurge(t *testing.T) {
	now := t0.Add(time.Minute)
	long, short := now.Add(-25*time.Second), now.Add(-15*time.Second)
	terminating := func(p corev1.Pod) corev1.Pod { p.DeletionTimestamp = &metav1.Time{Time: now}; return p }
	for _, tc := range []struct {
		name string
		pods []corev1.Pod
		want string
	}{
		{"settled: one pod of the current generation", []corev1.Pod{apiserverPod("new", "n1", "2", long, "ds-uid")}, ""},
		{"surge, the new pod within minReadySeconds + grace", []corev1.Pod{apiserverPod("old", "n1", "1", long, "ds-uid"), apiserverPod("new", "n1", "2", short, "ds-uid")}, ""},
		{"surge stands still", []corev1.Pod{apiserverPod("old", "n1", "1", long, "ds-uid"), apiserverPod("new", "n1", "2", long, "ds-uid")}, "new"},
		{"the old pod is being deleted", []corev1.Pod{terminating(apiserverPod("old", "n1", "1", long, "ds-uid")), apiserverPod("new", "n1", "2", long, "ds-uid")}, ""},
		{"the new pod is not Ready", []corev1.Pod{apiserverPod("old", "n1", "1", long, "ds-uid"), apiserverPod("new", "n1", "2", time.Time{}, "ds-uid")}, ""},
		{"pods of another owner", []corev1.Pod{apiserverPod("old", "n1", "1", long, "other"), apiserverPod("new", "n1", "2", long, "other")}, ""},
		{"old and new on different nodes", []corev1.Pod{apiserverPod("old", "n1", "1", long, "ds-uid"), apiserverPod("new", "n2", "2", long, "ds-uid")}, ""},
		{"one of two nodes stands still", []corev1.Pod{apiserverPod("a", "n1", "2", long, "ds-uid"), apiserverPod("b-old", "n2", "1", long, "ds-uid"), apiserverPod("b-new", "n2", "2", long, "ds-uid")}, "b-new"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := ""
			if p := stalledSurge(apiserverDS(), tc.pods, now, 10*time.Second); p != nil {
				got = p.Name
			}
			if got != tc.want {
				t.Errorf("stalled pod = %q, want %q", got, tc.want)
			}
		})
	}
}

// TestNudgeStalledRollout: a stall is answered by an annotation on the new
// pod (an event the DaemonSet controller reacts to); nothing is written
// otherwise.
func TestNudgeStalledRollout(t *testing.T) {
	ctx := context.Background()
	now := t0.Add(time.Minute)
	old := apiserverPod("old", "n1", "1", now.Add(-time.Hour), "ds-uid")
	fresh := apiserverPod("new", "n1", "2", now.Add(-30*time.Second), "ds-uid")
	cs := fake.NewSimpleClientset(apiserverDS(), &old, &fresh)
	msg, err := nudgeStalledRollout(ctx, cs, now, 10*time.Second)
	if err != nil || !strings.Contains(msg, "node n1") || !strings.Contains(msg, "pod new") {
		t.Fatalf("nudge = %q, %v; want a report of pod new on node n1", msg, err)
	}
	got, err := cs.CoreV1().Pods(assets.KubeSystem).Get(ctx, "new", metav1.GetOptions{})
	if err != nil || got.Annotations[rolloutNudgeAnnotation] != now.Format(time.RFC3339) {
		t.Fatalf("pod new annotations = %v (%v), want %s", got.Annotations, err, rolloutNudgeAnnotation)
	}

	settled := fake.NewSimpleClientset(apiserverDS(), &fresh)
	if msg, err := nudgeStalledRollout(ctx, settled, now, 10*time.Second); err != nil || msg != "" {
		t.Fatalf("settled roll-out: nudge = %q, %v; want nothing", msg, err)
	}
	if msg, err := nudgeStalledRollout(ctx, fake.NewSimpleClientset(&fresh), now, 10*time.Second); err != nil || msg != "" {
		t.Fatalf("no DaemonSet (static pods): nudge = %q, %v; want nothing", msg, err)
	}
	for _, a := range settled.Actions() {
		if a.GetVerb() == "patch" {
			t.Errorf("a settled roll-out was patched: %v", a)
		}
	}
}
