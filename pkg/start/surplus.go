package start

import (
	"context"
	"fmt"
	"sort"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/client-go/kubernetes"

	"github.com/bootstrap-k8s/bootstrap/pkg/assets"
)

// A recovery starts from a saved state in which every replica of the
// controller-manager and scheduler Deployments may be bound to this node
// (one control-plane node: both replicas of each). The kubelet starts
// every pod bound to it the moment the temporary apiserver answers, so
// kube-apiserver would start beside four controller processes, all
// waiting for it and all using CPU that its own start needs (bench trace:
// storage set up 0.65 s after its process, against 0.25 s in start, which
// places one of each). start's state is the model: one replica of each
// starts with kube-apiserver; the others are deleted before the kubelet
// lists its pods, and their ReplicaSets create them again once a
// controller-manager runs, as after a `kubectl delete pod`. Only surplus
// pods of these two Deployments on this node are touched: never a user's
// workload, never another node's replica, never the pod that is kept.

// holdBack is the phase that does it, right after the temporary
// apiserver is up: the kubelet lists its pods at its first 1 s check after
// its Node informer synced against it, and what it listed it starts. The
// pod kept is the one placement claims later (claimPod: the first live one
// bound here).
func (f *flow) holdBack(ctx context.Context) error {
	ns, node := assets.KubeSystem, f.cfg.Node.Name
	for _, name := range []string{assets.KubeControllerManager, assets.KubeScheduler} {
		d, err := f.cs().AppsV1().Deployments(ns).Get(ctx, name, metav1.GetOptions{})
		if apierrors.IsNotFound(err) {
			continue // the saved state lacks it: apply creates it, with no pod to hold back
		}
		if err != nil {
			return fmt.Errorf("reading Deployment %s/%s: %w", ns, name, err)
		}
		keep, err := claimPod(ctx, f.cs(), ns, d.Spec.Template.Labels, node, replicaSetOf(ctx, f.cs(), d))
		if err != nil || keep == nil {
			return err
		}
		said, err := holdBackSurplusReplicas(ctx, f.cs(), d, node, keep)
		for _, s := range said {
			f.p.Infof("hold-back", "%s", s)
		}
		if err != nil {
			return err
		}
	}
	return nil
}

func (f *flow) skipHoldBack(context.Context) (string, error) {
	if !f.o.Mode.recovering() {
		return "a fresh start has no saved pods", nil
	}
	if f.temp == nil {
		return "kube-apiserver already serves: the replicas run", nil
	}
	return "", nil
}

// holdBackSurplusReplicas deletes the live pods of Deployment d bound to
// node except keep. It returns what it did, one line a pod.
func holdBackSurplusReplicas(ctx context.Context, cs kubernetes.Interface, d *appsv1.Deployment, node string, keep *corev1.Pod) ([]string, error) {
	ns, name := d.Namespace, d.Name
	pods, err := cs.CoreV1().Pods(ns).List(ctx, metav1.ListOptions{LabelSelector: labels.SelectorFromSet(d.Spec.Template.Labels).String()})
	if err != nil {
		return nil, err
	}
	sort.Slice(pods.Items, func(i, j int) bool { return pods.Items[i].Name < pods.Items[j].Name })
	owned := replicaSetOf(ctx, cs, d)
	var said []string
	for i := range pods.Items {
		p := &pods.Items[i]
		if p.Spec.NodeName != node || p.DeletionTimestamp != nil || p.UID == keep.UID || !owned(p) ||
			p.Status.Phase == corev1.PodSucceeded || p.Status.Phase == corev1.PodFailed {
			continue
		}
		// The UID precondition: a pod of the same name created meanwhile is
		// not this one. The pod's own grace period applies, as to any
		// delete; a kubelet that never started it removes it at once.
		err := cs.CoreV1().Pods(ns).Delete(ctx, p.Name, metav1.DeleteOptions{Preconditions: metav1.NewUIDPreconditions(string(p.UID))})
		if apierrors.IsNotFound(err) || apierrors.IsConflict(err) {
			continue // gone or replaced meanwhile: nothing to hold back
		}
		if err != nil {
			return said, fmt.Errorf("deleting surplus replica %s/%s: %w", ns, p.Name, err)
		}
		said = append(said, fmt.Sprintf("Held back pod %s/%s, another replica of %s on %s: its ReplicaSet re-creates it once a controller-manager runs, so that kube-apiserver starts with one %s beside it", ns, p.Name, name, node, name))
	}
	return said, nil
}
