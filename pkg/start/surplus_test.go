package start

import (
	"context"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/utils/ptr"

	"github.com/bootstrap-k8s/bootstrap/internal/testcontrolplane"
	"github.com/bootstrap-k8s/bootstrap/pkg/assets"
)

// TestHoldBackSurplusReplicas: of a controller Deployment's pods, a
// recovery deletes only the live ones bound to this node beside the kept
// one; another node's replica, a user's pod with the same labels, an
// orphan and the kept pod stay. On a real temporary apiserver.
func TestHoldBackSurplusReplicas(t *testing.T) {
	cp := testcontrolplane.Start(t)
	ctx := context.Background()
	ns, node, name := assets.KubeSystem, testcontrolplane.NodeName, assets.KubeControllerManager
	lbls := map[string]string{assets.ComponentLabel: name}
	tmpl := corev1.PodTemplateSpec{ObjectMeta: metav1.ObjectMeta{Labels: lbls},
		Spec: corev1.PodSpec{Containers: []corev1.Container{{Name: "c", Image: "registry.invalid/c:1"}}}}
	d, err := cp.Client.AppsV1().Deployments(ns).Create(ctx, &appsv1.Deployment{ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: ns},
		Spec: appsv1.DeploymentSpec{Replicas: ptr.To[int32](2), Selector: &metav1.LabelSelector{MatchLabels: lbls}, Template: tmpl}}, metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	rs, err := ensureReplicaSet(ctx, cp.Client, d, templateHash(tmpl))
	if err != nil {
		t.Fatal(err)
	}
	// A user's ReplicaSet whose pods carry the same labels.
	foreign, err := cp.Client.AppsV1().ReplicaSets(ns).Create(ctx, &appsv1.ReplicaSet{ObjectMeta: metav1.ObjectMeta{Name: "users", Namespace: ns},
		Spec: appsv1.ReplicaSetSpec{Selector: &metav1.LabelSelector{MatchLabels: lbls}, Template: tmpl}}, metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	mkPod := func(podName, onNode string, owner *metav1.OwnerReference) *corev1.Pod {
		t.Helper()
		p := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: podName, Namespace: ns, Labels: lbls}, Spec: *tmpl.Spec.DeepCopy()}
		p.Spec.NodeName = onNode
		if owner != nil {
			p.OwnerReferences = []metav1.OwnerReference{*owner}
		}
		created, err := cp.Client.CoreV1().Pods(ns).Create(ctx, p, metav1.CreateOptions{})
		if err != nil {
			t.Fatal(err)
		}
		return created
	}
	ref := func(kind, n string, uid types.UID) *metav1.OwnerReference {
		return &metav1.OwnerReference{APIVersion: "apps/v1", Kind: kind, Name: n, UID: uid, Controller: ptr.To(true)}
	}
	keep := mkPod("a-kept", node, ref("ReplicaSet", rs.Name, rs.UID))
	mkPod("b-surplus", node, ref("ReplicaSet", rs.Name, rs.UID))
	mkPod("c-other-node", "node2", ref("ReplicaSet", rs.Name, rs.UID))
	mkPod("d-users", node, ref("ReplicaSet", foreign.Name, foreign.UID))
	mkPod("e-orphan", node, nil)

	said, err := holdBackSurplusReplicas(ctx, cp.Client, d, node, keep)
	if err != nil {
		t.Fatal(err)
	}
	if len(said) != 1 {
		t.Errorf("said %q, want one line (b-surplus)", said)
	}
	for podName, wantDeleted := range map[string]bool{"a-kept": false, "b-surplus": true, "c-other-node": false, "d-users": false, "e-orphan": false} {
		p, err := cp.Client.CoreV1().Pods(ns).Get(ctx, podName, metav1.GetOptions{})
		deleted := apierrors.IsNotFound(err) || (err == nil && p.DeletionTimestamp != nil)
		if err != nil && !apierrors.IsNotFound(err) {
			t.Fatal(err)
		}
		if deleted != wantDeleted {
			t.Errorf("pod %s deleted = %v, want %v", podName, deleted, wantDeleted)
		}
	}
	// A second run (a re-run after a kill) finds nothing more to do.
	if said, err := holdBackSurplusReplicas(ctx, cp.Client, d, node, keep); err != nil || len(said) != 0 {
		t.Errorf("second run: said %q, err %v; want nothing", said, err)
	}
}
