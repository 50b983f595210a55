package start

import (
	"context"
	"fmt"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/kubernetes"

	"github.com/bootstrap-k8s/bootstrap/pkg/poddiag"
)

// A control plane is only as alive as the pods it runs on. A pod that is
// terminating, or whose owner is gone (the workload was deleted and
// re-created: the garbage collector is about to delete it), serves for a
// few more seconds and then takes the API with it, so placement never
// counts it. A pod that is current but pending with no node (its
// controller created it while no scheduler ran) is bound to the node, as
// the scheduler would, instead of getting a sibling that its controller
// would then delete as a surplus.

// ownership says whether a pod belongs to the workload being placed.
type ownership func(*corev1.Pod) bool

// ownedBy: the pod's controller is the object with this UID (a DaemonSet).
func ownedBy(uid types.UID) ownership {
	return func(p *corev1.Pod) bool {
		ref := metav1.GetControllerOf(p)
		return ref != nil && ref.UID == uid
	}
}

// replicaSetOf: the pod's controller is a live ReplicaSet whose controller
// is the Deployment.
func replicaSetOf(ctx context.Context, cs kubernetes.Interface, d *appsv1.Deployment) ownership {
	return func(p *corev1.Pod) bool {
		ref := metav1.GetControllerOf(p)
		if ref == nil || ref.Kind != "ReplicaSet" {
			return false
		}
		rs, err := cs.AppsV1().ReplicaSets(p.Namespace).Get(ctx, ref.Name, metav1.GetOptions{})
		if err != nil || rs.UID != ref.UID || rs.DeletionTimestamp != nil {
			return false
		}
		owner := metav1.GetControllerOf(rs)
		return owner != nil && owner.UID == d.UID
	}
}

// claimPod returns a live pod of the workload on node: one bound there, or
// else a pending one that may run there, which it binds to node. Nil: the
// workload has no live pod for node, and one must be created.
func claimPod(ctx context.Context, cs kubernetes.Interface, ns string, lbls map[string]string, node string, owned ownership) (*corev1.Pod, error) {
	pods, err := cs.CoreV1().Pods(ns).List(ctx, metav1.ListOptions{LabelSelector: labels.SelectorFromSet(lbls).String()})
	if err != nil {
		return nil, err
	}
	var pending *corev1.Pod
	for i := range pods.Items {
		p := &pods.Items[i]
		if p.DeletionTimestamp != nil || !owned(p) || p.Status.Phase == corev1.PodSucceeded || p.Status.Phase == corev1.PodFailed {
			continue
		}
		switch {
		case p.Spec.NodeName == node:
			return p, nil
		case p.Spec.NodeName == "" && pending == nil && mayRunOn(p, node):
			pending = p
		}
	}
	if pending == nil {
		return nil, nil
	}
	binding := &corev1.Binding{
		ObjectMeta: metav1.ObjectMeta{Name: pending.Name, Namespace: ns, UID: pending.UID},
		Target:     corev1.ObjectReference{Kind: "Node", Name: node},
	}
	if err := cs.CoreV1().Pods(ns).Bind(ctx, binding, metav1.CreateOptions{}); err != nil {
		return nil, fmt.Errorf("binding pending pod %s/%s to %s: %w", ns, pending.Name, node, err)
	}
	return cs.CoreV1().Pods(ns).Get(ctx, pending.Name, metav1.GetOptions{})
}

// mayRunOn: a pending pod pinned to other nodes by a metadata.name node
// affinity term (a DaemonSet pod of another node) may not be bound here.
func mayRunOn(p *corev1.Pod, node string) bool {
	a := p.Spec.Affinity
	if a == nil || a.NodeAffinity == nil || a.NodeAffinity.RequiredDuringSchedulingIgnoredDuringExecution == nil {
		return true
	}
	for _, term := range a.NodeAffinity.RequiredDuringSchedulingIgnoredDuringExecution.NodeSelectorTerms {
		for _, f := range term.MatchFields {
			if f.Key == "metadata.name" && f.Operator == corev1.NodeSelectorOpIn {
				for _, v := range f.Values {
					if v == node {
						return true
					}
				}
				return false
			}
		}
	}
	return true
}

// liveReadyPodOnNode reports whether the workload has a Ready, live pod
// bound to node (the wait for kube-apiserver after a resume: a kept pod
// that terminates meanwhile does not count).
func liveReadyPodOnNode(ctx context.Context, cs kubernetes.Interface, ns string, lbls map[string]string, node string, owned ownership) (bool, string) {
	return livePodOnNode(ctx, cs, ns, lbls, node, owned, poddiag.Ready, "Ready")
}

// livePodOnNode is liveReadyPodOnNode with another test than Ready: ok,
// which what names.
func livePodOnNode(ctx context.Context, cs kubernetes.Interface, ns string, lbls map[string]string, node string, owned ownership, ok func(*corev1.Pod) bool, what string) (bool, string) {
	pods, err := cs.CoreV1().Pods(ns).List(ctx, metav1.ListOptions{LabelSelector: labels.SelectorFromSet(lbls).String()})
	if err != nil {
		return false, err.Error()
	}
	state := "no live pod on " + node
	for i := range pods.Items {
		p := &pods.Items[i]
		if p.Spec.NodeName != node || !owned(p) {
			continue
		}
		if p.DeletionTimestamp != nil {
			state = "pod " + p.Name + " is terminating"
			continue
		}
		if ok(p) {
			return true, "pod " + p.Name + " " + what
		}
		state = "pod " + p.Name + " not " + what
	}
	return false, state
}

// containersRunning: every container of the pod has started and runs.
func containersRunning(p *corev1.Pod) bool {
	if len(p.Status.ContainerStatuses) < len(p.Spec.Containers) {
		return false
	}
	for _, c := range p.Status.ContainerStatuses {
		if c.State.Running == nil {
			return false
		}
	}
	return true
}

// containersStartedSince: every container of the pod runs in a process
// started at or after t (by its status).
func containersStartedSince(p *corev1.Pod, t time.Time) bool {
	for _, c := range p.Status.ContainerStatuses {
		if c.State.Running == nil || c.State.Running.StartedAt.Time.Before(t) {
			return false
		}
	}
	return len(p.Status.ContainerStatuses) > 0
}
