package start

import (
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"

	"github.com/bootstrap-k8s/bootstrap/pkg/assets"
)

func hashTestTemplate() corev1.PodTemplateSpec {
	return corev1.PodTemplateSpec{
		ObjectMeta: metav1.ObjectMeta{Labels: map[string]string{"component": "kube-apiserver", "tier": "control-plane"}},
		Spec: corev1.PodSpec{HostNetwork: true, PriorityClassName: "system-node-critical",
			Containers: []corev1.Container{{Name: "kube-apiserver", Image: "registry.k8s.io/kube-apiserver:v1.37.2", Command: []string{"kube-apiserver", "--secure-port=6443"}}}},
	}
}

// The expected values were computed with k8s.io/kubernetes v1.37.2
// pkg/controller.ComputeHash on the same template (the product may not
// import k8s.io/kubernetes): if the dump format or the algorithm drifts,
// the DaemonSet controller would replace the pod bootstrap placed.
func TestControllerHashMatchesKubernetes(t *testing.T) {
	tmpl := hashTestTemplate()
	for _, tc := range []struct {
		collisions *int32
		want       string
	}{{nil, "5489468b8b"}, {ptr.To[int32](2), "f46b9b8"}} {
		if got := controllerHash(&tmpl, tc.collisions); got != tc.want {
			t.Errorf("controllerHash(collisions %v) = %s, want %s (k8s.io/kubernetes ComputeHash)", tc.collisions, got, tc.want)
		}
	}
}

func TestDaemonSetPodTemplate(t *testing.T) {
	ds := &appsv1.DaemonSet{
		ObjectMeta: metav1.ObjectMeta{Name: "kube-apiserver", Annotations: map[string]string{assets.DaemonSetTemplateGenerationAnnotation: "3"}},
		Spec:       appsv1.DaemonSetSpec{Template: hashTestTemplate()},
	}
	ds.Spec.Template.Spec.Tolerations = []corev1.Toleration{{Operator: corev1.TolerationOpExists}}
	got := daemonSetPodTemplate(ds, "node-1")
	if got.Labels[assets.DaemonSetTemplateGenerationLabel] != "3" {
		t.Errorf("pod-template-generation = %q, want the DaemonSet's 3", got.Labels[assets.DaemonSetTemplateGenerationLabel])
	}
	if got.Labels[appsv1.DefaultDaemonSetUniqueLabelKey] != controllerHash(&ds.Spec.Template, nil) {
		t.Errorf("controller-revision-hash = %q, want the hash of the DaemonSet's template", got.Labels[appsv1.DefaultDaemonSetUniqueLabelKey])
	}
	if ds.Spec.Template.Labels[appsv1.DefaultDaemonSetUniqueLabelKey] != "" || len(ds.Spec.Template.Spec.Tolerations) != 1 {
		t.Error("the DaemonSet's own template was modified")
	}
	// The template's own toleration plus the 6 every daemon pod gets, plus
	// network-unavailable for host-network pods.
	if n := len(got.Spec.Tolerations); n != 8 {
		t.Errorf("%d tolerations, want 8: %+v", n, got.Spec.Tolerations)
	}
	terms := got.Spec.Affinity.NodeAffinity.RequiredDuringSchedulingIgnoredDuringExecution.NodeSelectorTerms
	if len(terms) != 1 || terms[0].MatchFields[0].Key != "metadata.name" || terms[0].MatchFields[0].Values[0] != "node-1" {
		t.Errorf("node affinity %+v, want metadata.name in [node-1]", terms)
	}
}
