package start

import (
	"context"
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/kubernetes/fake"
	"k8s.io/utils/ptr"
)

func testPod(name, node string, owner types.UID, terminating bool, affinityNode string) *corev1.Pod {
	p := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: "kube-system", Labels: map[string]string{"component": "kube-apiserver"},
		OwnerReferences: []metav1.OwnerReference{{APIVersion: "apps/v1", Kind: "DaemonSet", Name: "kube-apiserver", UID: owner, Controller: ptr.To(true)}}},
		Spec: corev1.PodSpec{NodeName: node}}
	if terminating {
		p.DeletionTimestamp = &metav1.Time{}
		p.Finalizers = []string{"test"}
	}
	if affinityNode != "" {
		p.Spec.Affinity = nodeNameAffinity(nil, affinityNode)
	}
	return p
}

// TestClaimPodSkipsDyingPods: the defect of a recover that kept a
// terminating kube-apiserver pod (or one whose DaemonSet was deleted and
// re-created) and exited 0 seconds before the API vanished with it.
func TestClaimPodSkipsDyingPods(t *testing.T) {
	const ds = types.UID("current-ds")
	lbls := map[string]string{"component": "kube-apiserver"}
	for _, tc := range []struct {
		name     string
		pods     []*corev1.Pod
		want     string // pod returned; "" none
		wantBind bool
	}{
		{"none", nil, "", false},
		{"live pod on node kept", []*corev1.Pod{testPod("live", "n1", ds, false, "")}, "live", false},
		{"terminating pod not kept", []*corev1.Pod{testPod("dying", "n1", ds, true, "")}, "", false},
		{"orphan of a deleted DaemonSet not kept", []*corev1.Pod{testPod("orphan", "n1", "old-ds", false, "")}, "", false},
		{"pod of another node not kept", []*corev1.Pod{testPod("other", "n2", ds, false, "")}, "", false},
		{"live pod preferred over dying ones", []*corev1.Pod{testPod("dying", "n1", ds, true, ""), testPod("orphan", "n1", "old-ds", false, ""), testPod("live", "n1", ds, false, "")}, "live", false},
		{"pending pod for this node is bound", []*corev1.Pod{testPod("pending", "", ds, false, "n1")}, "pending", true},
		{"pending pod pinned to another node is not", []*corev1.Pod{testPod("pending", "", ds, false, "n2")}, "", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cs := fake.NewClientset()
			for _, p := range tc.pods {
				if _, err := cs.CoreV1().Pods(p.Namespace).Create(context.Background(), p, metav1.CreateOptions{}); err != nil {
					t.Fatal(err)
				}
			}
			got, err := claimPod(context.Background(), cs, "kube-system", lbls, "n1", ownedBy(ds))
			if err != nil {
				t.Fatal(err)
			}
			name := ""
			if got != nil {
				name = got.Name
			}
			if name != tc.want {
				t.Errorf("claimed %q, want %q", name, tc.want)
			}
			bound := false
			for _, a := range cs.Actions() {
				if a.GetVerb() == "create" && a.GetSubresource() == "binding" {
					bound = true
				}
			}
			if bound != tc.wantBind {
				t.Errorf("bound = %v, want %v", bound, tc.wantBind)
			}
		})
	}
}
