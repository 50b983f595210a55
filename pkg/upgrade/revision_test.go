package upgrade

import (
	"context"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"

	"github.com/bootstrap-k8s/bootstrap/internal/testcontrolplane"
	"github.com/bootstrap-k8s/bootstrap/pkg/assets"
)

// TestClaimPodsForRollBack: only the DaemonSet's pods of the recorded
// template generation that carry another hash get the current revision's.
func TestClaimPodsForRollBack(t *testing.T) {
	cs := testcontrolplane.Start(t).Client
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	ns := assets.KubeSystem
	if _, err := cs.CoreV1().Namespaces().Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns}}, metav1.CreateOptions{}); err != nil && !apierrors.IsAlreadyExists(err) {
		t.Fatal(err)
	}
	labels := map[string]string{"app": "web"}
	podSpec := corev1.PodSpec{Containers: []corev1.Container{{Name: "c", Image: "x"}}}
	ds, err := cs.AppsV1().DaemonSets(ns).Create(ctx, &appsv1.DaemonSet{
		ObjectMeta: metav1.ObjectMeta{Name: "web", Annotations: map[string]string{assets.DaemonSetTemplateGenerationAnnotation: "1"}},
		Spec: appsv1.DaemonSetSpec{Selector: &metav1.LabelSelector{MatchLabels: labels},
			Template: corev1.PodTemplateSpec{ObjectMeta: metav1.ObjectMeta{Labels: labels}, Spec: podSpec}},
	}, metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	owner := *metav1.NewControllerRef(ds, appsv1.SchemeGroupVersion.WithKind("DaemonSet"))
	withHash := func(hash string, extra map[string]string) map[string]string {
		l := map[string]string{"app": "web", appsv1.DefaultDaemonSetUniqueLabelKey: hash}
		for k, v := range extra {
			l[k] = v
		}
		return l
	}
	for i, rev := range []string{"old0", "cur1"} {
		if _, err := cs.AppsV1().ControllerRevisions(ns).Create(ctx, &appsv1.ControllerRevision{
			ObjectMeta: metav1.ObjectMeta{Name: "web-" + rev, Labels: withHash(rev, nil), OwnerReferences: []metav1.OwnerReference{owner}},
			Data:       runtime.RawExtension{Raw: []byte(`{}`)}, Revision: int64(i + 1),
		}, metav1.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	pods := map[string]map[string]string{
		"placed":     withHash("bootstrap-hash", map[string]string{assets.DaemonSetTemplateGenerationLabel: "1"}), // relabelled
		"older":      withHash("old0", map[string]string{assets.DaemonSetTemplateGenerationLabel: "0"}),           // another generation: kept
		"current":    withHash("cur1", map[string]string{assets.DaemonSetTemplateGenerationLabel: "1"}),           // already right
		"not-the-ds": withHash("x", map[string]string{assets.DaemonSetTemplateGenerationLabel: "1"}),              // no owner
	}
	for name, l := range pods {
		p := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: name, Labels: l}, Spec: podSpec}
		if name != "not-the-ds" {
			p.OwnerReferences = []metav1.OwnerReference{owner}
		}
		if _, err := cs.CoreV1().Pods(ns).Create(ctx, p, metav1.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
	}

	rev, err := currentRevision(ctx, cs, "web")
	if err != nil || rev == nil || rev.hash != "cur1" || rev.ds.Annotations[assets.DaemonSetTemplateGenerationAnnotation] != "1" {
		t.Fatalf("currentRevision = %+v, %v; want hash cur1, generation 1", rev, err)
	}
	n, err := claimPodsForRollBack(ctx, cs, rev)
	if err != nil || n != 1 {
		t.Fatalf("claimPodsForRollBack: %d pods, %v; want 1", n, err)
	}
	want := map[string]string{"placed": "cur1", "older": "old0", "current": "cur1", "not-the-ds": "x"}
	for name, hash := range want {
		p, err := cs.CoreV1().Pods(ns).Get(ctx, name, metav1.GetOptions{})
		if err != nil {
			t.Fatal(err)
		}
		if got := p.Labels[appsv1.DefaultDaemonSetUniqueLabelKey]; got != hash {
			t.Errorf("pod %s: hash %q, want %q", name, got, hash)
		}
	}
	if n, err := claimPodsForRollBack(ctx, cs, nil); n != 0 || err != nil {
		t.Errorf("no recorded revision: %d, %v; want 0, nil", n, err)
	}
}
