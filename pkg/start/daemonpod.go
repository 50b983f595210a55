package start

import (
	"encoding/binary"
	"fmt"
	"hash/fnv"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/rand"
	"k8s.io/utils/dump"

	"github.com/bootstrap-k8s/bootstrap/pkg/assets"
)

// The first kube-apiserver pod is created the way the DaemonSet controller
// would create it, so that the controller counts it as current and keeps it:
// no surge replacement, no second hand-over between apiserver pods, and the
// `wait` phase does not pay for another kube-apiserver start.
//
// The controller treats a pod as current when its pod-template-generation
// label equals the DaemonSet's template generation, or its
// controller-revision-hash equals the hash of the current template
// (k8s.io/kubernetes pkg/controller/daemon/util.IsPodUpdated); both are set.

// daemonSetPodTemplate returns the template the DaemonSet controller would
// create ds's pod on node from: its generation and revision-hash labels,
// the tolerations every daemon pod gets, and node affinity to node.
func daemonSetPodTemplate(ds *appsv1.DaemonSet, node string) corev1.PodTemplateSpec {
	t := *ds.Spec.Template.DeepCopy()
	t.Labels = withLabel(t.Labels, appsv1.DefaultDaemonSetUniqueLabelKey, controllerHash(&ds.Spec.Template, ds.Status.CollisionCount))
	if g, ok := ds.Annotations[assets.DaemonSetTemplateGenerationAnnotation]; ok {
		t.Labels[assets.DaemonSetTemplateGenerationLabel] = g
	}
	addDaemonTolerations(&t.Spec)
	t.Spec.Affinity = nodeNameAffinity(t.Spec.Affinity, node)
	return t
}

// controllerHash is the workload controllers' template hash: FNV-32a of the
// template dumped for hashing, plus the collision count, safe-encoded.
func controllerHash(t *corev1.PodTemplateSpec, collisionCount *int32) string {
	h := fnv.New32a()
	fmt.Fprintf(h, "%v", dump.ForHash(*t))
	if collisionCount != nil {
		b := make([]byte, 8)
		binary.LittleEndian.PutUint32(b, uint32(*collisionCount))
		h.Write(b)
	}
	return rand.SafeEncodeString(fmt.Sprint(h.Sum32()))
}

// addDaemonTolerations adds what the DaemonSet controller adds to every
// daemon pod, so that node conditions never evict it.
func addDaemonTolerations(spec *corev1.PodSpec) {
	want := []corev1.Toleration{
		{Key: corev1.TaintNodeNotReady, Operator: corev1.TolerationOpExists, Effect: corev1.TaintEffectNoExecute},
		{Key: corev1.TaintNodeUnreachable, Operator: corev1.TolerationOpExists, Effect: corev1.TaintEffectNoExecute},
		{Key: corev1.TaintNodeDiskPressure, Operator: corev1.TolerationOpExists, Effect: corev1.TaintEffectNoSchedule},
		{Key: corev1.TaintNodeMemoryPressure, Operator: corev1.TolerationOpExists, Effect: corev1.TaintEffectNoSchedule},
		{Key: corev1.TaintNodePIDPressure, Operator: corev1.TolerationOpExists, Effect: corev1.TaintEffectNoSchedule},
		{Key: corev1.TaintNodeUnschedulable, Operator: corev1.TolerationOpExists, Effect: corev1.TaintEffectNoSchedule},
	}
	if spec.HostNetwork {
		want = append(want, corev1.Toleration{Key: corev1.TaintNodeNetworkUnavailable, Operator: corev1.TolerationOpExists, Effect: corev1.TaintEffectNoSchedule})
	}
	for _, tol := range want {
		replaced := false
		for i := range spec.Tolerations {
			if spec.Tolerations[i].Key == tol.Key && spec.Tolerations[i].Effect == tol.Effect {
				spec.Tolerations[i], replaced = tol, true
			}
		}
		if !replaced {
			spec.Tolerations = append(spec.Tolerations, tol)
		}
	}
}

// nodeNameAffinity makes the pod's required node affinity select exactly
// node by name, as daemon pods have.
func nodeNameAffinity(a *corev1.Affinity, node string) *corev1.Affinity {
	sel := &corev1.NodeSelector{NodeSelectorTerms: []corev1.NodeSelectorTerm{{
		MatchFields: []corev1.NodeSelectorRequirement{{Key: metav1.ObjectNameField, Operator: corev1.NodeSelectorOpIn, Values: []string{node}}},
	}}}
	if a == nil {
		a = &corev1.Affinity{}
	}
	if a.NodeAffinity == nil {
		a.NodeAffinity = &corev1.NodeAffinity{}
	}
	a.NodeAffinity.RequiredDuringSchedulingIgnoredDuringExecution = sel
	return a
}
