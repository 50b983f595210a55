package start

import (
	"context"
	"fmt"
	"hash/fnv"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/rand"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/client-go/kubernetes"
	"k8s.io/utils/ptr"

	"github.com/bootstrap-k8s/bootstrap/pkg/assets"
)

// PlacedLabel marks the pods bootstrap created itself, so that they can be
// told apart from those the real controllers create and waited out.
const PlacedLabel = "bootstrap.dev/placed"

// No scheduler or controller-manager exists while bootstrap places the first
// control-plane pods, so it does their job once, in a way the real ones take
// over:
//   - a DaemonSet pod is created as the DaemonSet controller would create it
//     (daemonpod.go), owned by the DaemonSet: the controller finds it current
//     and keeps it.
//   - a Deployment gets a ReplicaSet whose template is the Deployment's plus
//     a pod-template-hash, owned by the Deployment; the Deployment controller
//     recognises it as its current ReplicaSet (it compares templates, not
//     names), and the ReplicaSet controller owns the pod bootstrap creates.

// systemPriorities are the values of kube-apiserver's built-in priority classes.
var systemPriorities = map[string]int32{"system-node-critical": 2000001000, "system-cluster-critical": 2000000000}

// placeDaemonSetPod creates the first pod of a DaemonSet on node, unless a
// pod of it is already there (then that pod is returned, created false).
func placeDaemonSetPod(ctx context.Context, cs kubernetes.Interface, ns, name, node string) (pod *corev1.Pod, created bool, err error) {
	ds, err := cs.AppsV1().DaemonSets(ns).Get(ctx, name, metav1.GetOptions{})
	if err != nil {
		return nil, false, fmt.Errorf("reading DaemonSet %s/%s: %w", ns, name, err)
	}
	if p, err := claimPod(ctx, cs, ns, ds.Spec.Template.Labels, node, ownedBy(ds.UID)); err != nil || p != nil {
		return p, false, err
	}
	owner := metav1.OwnerReference{APIVersion: "apps/v1", Kind: "DaemonSet", Name: ds.Name, UID: ds.UID,
		Controller: ptr.To(true), BlockOwnerDeletion: ptr.To(true)}
	pod, err = createPod(ctx, cs, ns, name+"-", daemonSetPodTemplate(ds, node), node, owner, nil)
	return pod, err == nil, err
}

// placeDeploymentPod gives a Deployment its ReplicaSet and one pod on node,
// unless a pod of it is already there (then that pod is returned, created
// false).
func placeDeploymentPod(ctx context.Context, cs kubernetes.Interface, ns, name, node string) (pod *corev1.Pod, created bool, err error) {
	d, err := cs.AppsV1().Deployments(ns).Get(ctx, name, metav1.GetOptions{})
	if err != nil {
		return nil, false, fmt.Errorf("reading Deployment %s/%s: %w", ns, name, err)
	}
	if p, err := claimPod(ctx, cs, ns, d.Spec.Template.Labels, node, replicaSetOf(ctx, cs, d)); err != nil || p != nil {
		return p, false, err
	}
	hash := templateHash(d.Spec.Template)
	rs, err := ensureReplicaSet(ctx, cs, d, hash)
	if err != nil {
		return nil, false, err
	}
	owner := metav1.OwnerReference{APIVersion: "apps/v1", Kind: "ReplicaSet", Name: rs.Name, UID: rs.UID,
		Controller: ptr.To(true), BlockOwnerDeletion: ptr.To(true)}
	pod, err = createPod(ctx, cs, ns, rs.Name+"-", d.Spec.Template, node, owner, map[string]string{appsv1.DefaultDeploymentUniqueLabelKey: hash})
	return pod, err == nil, err
}

func ensureReplicaSet(ctx context.Context, cs kubernetes.Interface, d *appsv1.Deployment, hash string) (*appsv1.ReplicaSet, error) {
	name := d.Name + "-" + hash
	if rs, err := cs.AppsV1().ReplicaSets(d.Namespace).Get(ctx, name, metav1.GetOptions{}); err == nil {
		return rs, nil
	} else if !apierrors.IsNotFound(err) {
		return nil, err
	}
	tmpl := *d.Spec.Template.DeepCopy()
	tmpl.Labels = withLabel(tmpl.Labels, appsv1.DefaultDeploymentUniqueLabelKey, hash)
	sel := d.Spec.Selector.DeepCopy()
	sel.MatchLabels = withLabel(sel.MatchLabels, appsv1.DefaultDeploymentUniqueLabelKey, hash)
	rs := &appsv1.ReplicaSet{
		ObjectMeta: metav1.ObjectMeta{
			Name: name, Namespace: d.Namespace, Labels: tmpl.Labels,
			Annotations: map[string]string{
				"deployment.kubernetes.io/desired-replicas": fmt.Sprint(ptr.Deref(d.Spec.Replicas, 1)),
				"deployment.kubernetes.io/max-replicas":     fmt.Sprint(ptr.Deref(d.Spec.Replicas, 1) + 1),
				"deployment.kubernetes.io/revision":         "1",
			},
			OwnerReferences: []metav1.OwnerReference{{APIVersion: "apps/v1", Kind: "Deployment", Name: d.Name, UID: d.UID,
				Controller: ptr.To(true), BlockOwnerDeletion: ptr.To(true)}},
		},
		Spec: appsv1.ReplicaSetSpec{Replicas: d.Spec.Replicas, Selector: sel, Template: tmpl, MinReadySeconds: d.Spec.MinReadySeconds},
	}
	created, err := cs.AppsV1().ReplicaSets(d.Namespace).Create(ctx, rs, metav1.CreateOptions{FieldManager: assets.FieldManager})
	if apierrors.IsAlreadyExists(err) {
		return cs.AppsV1().ReplicaSets(d.Namespace).Get(ctx, name, metav1.GetOptions{})
	}
	return created, err
}

func createPod(ctx context.Context, cs kubernetes.Interface, ns, generateName string, tmpl corev1.PodTemplateSpec,
	node string, owner metav1.OwnerReference, extraLabels map[string]string) (*corev1.Pod, error) {
	pod := &corev1.Pod{
		ObjectMeta: *tmpl.ObjectMeta.DeepCopy(),
		Spec:       *tmpl.Spec.DeepCopy(),
	}
	pod.GenerateName = generateName
	pod.Namespace = ns
	pod.OwnerReferences = []metav1.OwnerReference{owner}
	for k, v := range extraLabels {
		pod.Labels = withLabel(pod.Labels, k, v)
	}
	pod.Labels = withLabel(pod.Labels, PlacedLabel, "true")
	pod.Spec.NodeName = node
	// kube-apiserver's Priority admission resolves priorityClassName; the
	// temporary apiserver does not. Without the value the pod has priority 0
	// and the scheduler preempts it first — the surge pod that replaces it
	// would evict the only apiserver.
	if v, ok := systemPriorities[pod.Spec.PriorityClassName]; ok && pod.Spec.Priority == nil {
		pod.Spec.Priority = ptr.To(v)
	}
	created, err := cs.CoreV1().Pods(ns).Create(ctx, pod, metav1.CreateOptions{FieldManager: assets.FieldManager})
	if err != nil {
		return nil, fmt.Errorf("creating the first %s pod on %s: %w", generateName[:len(generateName)-1], node, err)
	}
	return created, nil
}

// templateHash names the ReplicaSet bootstrap creates; any stable value
// works because the Deployment controller matches ReplicaSets by template.
func templateHash(t corev1.PodTemplateSpec) string {
	h := fnv.New32a()
	fmt.Fprintf(h, "%#v", t.Spec.Containers)
	return rand.SafeEncodeString(fmt.Sprint(h.Sum32()))
}

func withLabel(m map[string]string, k, v string) map[string]string {
	out := make(map[string]string, len(m)+1)
	for key, val := range m {
		out[key] = val
	}
	out[k] = v
	return out
}

// waitForNode waits until the kubelet has registered node.
func waitForNode(ctx context.Context, cs kubernetes.Interface, node string, timeout time.Duration, report func(string)) (*corev1.Node, error) {
	var n *corev1.Node
	var last error
	err := wait.PollUntilContextTimeout(ctx, 250*time.Millisecond, timeout, true, func(ctx context.Context) (bool, error) {
		n, last = cs.CoreV1().Nodes().Get(ctx, node, metav1.GetOptions{})
		return last == nil, nil
	})
	if err != nil {
		return nil, fmt.Errorf("node %q did not register within %s (last error: %v): is the kubelet running with --kubeconfig <asset-dir>/%s and --hostname-override=%s? check its log", node, timeout, last, assets.KubeletKubeconfig, node)
	}
	report(fmt.Sprintf("node %s registered", node))
	return n, nil
}
