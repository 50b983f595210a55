package tempcontrolplane

import (
	"context"
	"fmt"
	"testing"
	"time"

	coordinationv1 "k8s.io/api/coordination/v1"
	corev1 "k8s.io/api/core/v1"
	storagev1 "k8s.io/api/storage/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/utils/ptr"

	"github.com/bootstrap-k8s/bootstrap/pkg/assets"
)

// TestKubeletSequence replays, as the node identity, the calls a v1.37
// kubelet makes to register and run a hostNetwork pod.
func TestKubeletSequence(t *testing.T) {
	cp := shared
	ctx := context.Background()
	const node = "kubelet-node"
	c, k := clientCert(t, assets.Path(cp.assetDir, assets.CACert), assets.Path(cp.assetDir, assets.CAKey), "system:node:"+node, assets.NodesGroup)
	kc := clientFor(t, cp, c, k)
	step := func(what string, err error) {
		t.Helper()
		if err != nil {
			t.Fatalf("%s: %v", what, err)
		}
	}

	// Informers start first: services (mandatory before containers start),
	// the own node, and pods bound to this node.
	_, err := kc.CoreV1().Services("").List(ctx, metav1.ListOptions{FieldSelector: "spec.clusterIP!=None"})
	step("list services", err)
	nodeWatch, err := kc.CoreV1().Nodes().Watch(ctx, metav1.ListOptions{FieldSelector: "metadata.name=" + node})
	step("watch own node", err)
	defer nodeWatch.Stop()
	podWatch, err := kc.CoreV1().Pods("").Watch(ctx, metav1.ListOptions{FieldSelector: "spec.nodeName=" + node})
	step("watch own pods", err)
	defer podWatch.Stop()

	// Register.
	_, err = kc.CoreV1().Nodes().Get(ctx, node, metav1.GetOptions{})
	if !apierrors.IsNotFound(err) {
		t.Fatalf("get unregistered node: want NotFound, got %v", err)
	}
	n := &corev1.Node{ObjectMeta: metav1.ObjectMeta{Name: node, Labels: map[string]string{"kubernetes.io/hostname": node}},
		Status: corev1.NodeStatus{Capacity: corev1.ResourceList{corev1.ResourceCPU: mustQ("2")}}}
	_, err = kc.CoreV1().Nodes().Create(ctx, n, metav1.CreateOptions{})
	step("register node", err)

	// CSINode, read then created.
	_, err = kc.StorageV1().CSINodes().Get(ctx, node, metav1.GetOptions{})
	if !apierrors.IsNotFound(err) {
		t.Fatalf("get csinode: %v", err)
	}
	_, err = kc.StorageV1().CSINodes().Create(ctx, &storagev1.CSINode{ObjectMeta: metav1.ObjectMeta{Name: node,
		OwnerReferences: []metav1.OwnerReference{{APIVersion: "v1", Kind: "Node", Name: node, UID: "x"}}}, Spec: storagev1.CSINodeSpec{Drivers: []storagev1.CSINodeDriver{}}}, metav1.CreateOptions{})
	step("create csinode", err)

	// Node lease: create, then renew twice.
	lease := &coordinationv1.Lease{ObjectMeta: metav1.ObjectMeta{Name: node, Namespace: corev1.NamespaceNodeLease},
		Spec: coordinationv1.LeaseSpec{HolderIdentity: ptr.To(node), LeaseDurationSeconds: ptr.To[int32](40), RenewTime: &metav1.MicroTime{Time: time.Now()}}}
	l, err := kc.CoordinationV1().Leases(corev1.NamespaceNodeLease).Create(ctx, lease, metav1.CreateOptions{})
	step("create lease", err)
	for i := 0; i < 2; i++ {
		l.Spec.RenewTime = &metav1.MicroTime{Time: time.Now()}
		l, err = kc.CoordinationV1().Leases(corev1.NamespaceNodeLease).Update(ctx, l, metav1.UpdateOptions{})
		step("renew lease", err)
	}

	// Node status patch, as the kubelet sends it.
	patch := `{"status":{"conditions":[{"type":"Ready","status":"True","reason":"KubeletReady","lastHeartbeatTime":"2026-11-24T20:00:00Z","lastTransitionTime":"2026-11-24T20:00:00Z"}],"nodeInfo":{"kubeletVersion":"v1.37.2"}}}`
	_, err = kc.CoreV1().Nodes().Patch(ctx, node, types.StrategicMergePatchType, []byte(patch), metav1.PatchOptions{}, "status")
	step("patch node status", err)

	// The bootstrap binary places a hostNetwork pod on the node.
	p := pod("hostnet", node)
	p.Spec.HostNetwork = true
	p.Spec.AutomountServiceAccountToken = ptr.To(false)
	created, err := cp.cs.CoreV1().Pods("kube-system").Create(ctx, p, metav1.CreateOptions{})
	step("place pod", err)
	waitFor(t, podWatch.ResultChan(), "pod event for hostnet", func(o any) bool { return o.(*corev1.Pod).Name == "hostnet" })

	// Pod status patch with UID precondition in the patch, as the status manager does.
	spatch := fmt.Sprintf(`{"metadata":{"uid":%q},"status":{"phase":"Running","hostIP":"127.0.0.1","podIP":"127.0.0.1","conditions":[{"type":"Ready","status":"True"}],"containerStatuses":[{"name":"c","ready":true,"restartCount":0,"image":"registry.k8s.io/pause:3.10.2","imageID":"","started":true,"state":{"running":{"startedAt":"2026-11-24T20:00:00Z"}}}]}}`, created.UID)
	got, err := kc.CoreV1().Pods("kube-system").Patch(ctx, "hostnet", types.StrategicMergePatchType, []byte(spatch), metav1.PatchOptions{}, "status")
	step("patch pod status", err)
	if got.Status.Phase != corev1.PodRunning {
		t.Fatalf("pod phase %s", got.Status.Phase)
	}

	// Mirror pod for a static pod, created by the kubelet itself.
	mirror := pod("static-"+node, node)
	mirror.Annotations = map[string]string{"kubernetes.io/config.mirror": "hash", "kubernetes.io/config.source": "file"}
	_, err = kc.CoreV1().Pods("kube-system").Create(ctx, mirror, metav1.CreateOptions{})
	step("create mirror pod", err)

	// An event.
	ev := &corev1.Event{ObjectMeta: metav1.ObjectMeta{Name: node + ".starting", Namespace: metav1.NamespaceDefault},
		InvolvedObject: corev1.ObjectReference{Kind: "Node", Name: node, UID: types.UID(node)}, Reason: "Starting", Message: "Starting kubelet.",
		Source: corev1.EventSource{Component: "kubelet", Host: node}, Type: corev1.EventTypeNormal, Count: 1,
		FirstTimestamp: metav1.Now(), LastTimestamp: metav1.Now()}
	_, err = kc.CoreV1().Events(metav1.NamespaceDefault).Create(ctx, ev, metav1.CreateOptions{})
	step("post event", err)

	// Graceful deletion as the kubelet finishes it.
	step("delete pod", cp.cs.CoreV1().Pods("kube-system").Delete(ctx, "hostnet", metav1.DeleteOptions{}))
	step("final delete", kc.CoreV1().Pods("kube-system").Delete(ctx, "hostnet", metav1.DeleteOptions{GracePeriodSeconds: ptr.To[int64](0), Preconditions: metav1.NewUIDPreconditions(string(created.UID))}))
}

func waitFor(t *testing.T, ch <-chan watchEvent, what string, match func(any) bool) {
	t.Helper()
	deadline := time.After(10 * time.Second)
	for {
		select {
		case ev, ok := <-ch:
			if !ok {
				t.Fatalf("watch closed while waiting for %s", what)
			}
			if match(ev.Object) {
				return
			}
		case <-deadline:
			t.Fatalf("timed out waiting for %s", what)
		}
	}
}
