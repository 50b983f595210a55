package assets

import (
	"path/filepath"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/klog/v2"
)

// TestTaintTolerations checks the decision of docs/design.md ("Taints"): the
// workloads that would remove a taint, and the node's networking, tolerate
// any taint a user can apply; CoreDNS is an ordinary add-on that a NoExecute
// taint moves away and the surviving controllers bring back.
func TestTaintTolerations(t *testing.T) {
	cfg := testConfig(t)
	cfg.Networking.CNI = "flannel"
	cfg.Images.Flannel = "docker.io/flannel/flannel:v0.28.10"
	dir := filepath.Join(t.TempDir(), "assets")
	if _, err := Render(cfg, dir, testOptions()); err != nil {
		t.Fatal(err)
	}
	userTaints := []corev1.Taint{
		{Key: "foo", Value: "bar", Effect: corev1.TaintEffectNoExecute},
		{Key: "foo", Value: "bar", Effect: corev1.TaintEffectNoSchedule},
		{Key: corev1.TaintNodeUnschedulable, Effect: corev1.TaintEffectNoSchedule}, // cordon
		{Key: ControlPlaneNodeLabel, Effect: corev1.TaintEffectNoSchedule},
		{Key: corev1.TaintNodeNotReady, Effect: corev1.TaintEffectNoExecute},
		{Key: corev1.TaintNodeUnreachable, Effect: corev1.TaintEffectNoExecute},
	}
	tolerateAll := map[string]bool{KubeAPIServer: true, KubeControllerManager: true, KubeScheduler: true, KubeProxy: true, "kube-flannel-ds": true}
	seen := map[string]bool{}
	for _, list := range decodeAll(t, dir) {
		for _, o := range list {
			var name string
			var spec corev1.PodSpec
			switch v := o.(type) {
			case *appsv1.DaemonSet:
				name, spec = v.Name, v.Spec.Template.Spec
			case *appsv1.Deployment:
				name, spec = v.Name, v.Spec.Template.Spec
			default:
				continue
			}
			seen[name] = true
			for _, taint := range userTaints {
				got := tolerates(spec.Tolerations, &taint)
				switch {
				case tolerateAll[name] && !got:
					t.Errorf("%s does not tolerate %s: the taint would evict what could remove it", name, taint.ToString())
				case name == CoreDNS && taint.Key == "foo" && taint.Effect == corev1.TaintEffectNoExecute && got:
					t.Errorf("%s tolerates %s: CoreDNS is an add-on a user may evict", name, taint.ToString())
				}
			}
		}
	}
	for name := range tolerateAll {
		if !seen[name] {
			t.Errorf("no workload %s rendered", name)
		}
	}
	if !seen[CoreDNS] {
		t.Errorf("no workload %s rendered", CoreDNS)
	}
}

func tolerates(tols []corev1.Toleration, taint *corev1.Taint) bool {
	for i := range tols {
		if tols[i].ToleratesTaint(klog.Background(), taint, false) {
			return true
		}
	}
	return false
}
