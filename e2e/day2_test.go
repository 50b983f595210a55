//go:build e2e

package e2e

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/client-go/kubernetes"
	"k8s.io/utils/ptr"

	"github.com/bootstrap-k8s/bootstrap/e2e/framework"
	"github.com/bootstrap-k8s/bootstrap/pkg/assets"
)

// checkWorkloadAndService: a user Deployment is scheduled onto the pod
// network and a ClusterIP Service reaches it through kube-proxy.
func checkWorkloadAndService(t *testing.T, node *framework.Node, cs kubernetes.Interface) {
	t.Helper()
	ctx := context.Background()
	ns := "default"
	labels := map[string]string{"app": "hello"}
	dep := &appsv1.Deployment{ObjectMeta: metav1.ObjectMeta{Name: "hello"},
		Spec: appsv1.DeploymentSpec{Replicas: ptr.To[int32](2), Selector: &metav1.LabelSelector{MatchLabels: labels},
			Template: corev1.PodTemplateSpec{ObjectMeta: metav1.ObjectMeta{Labels: labels}, Spec: corev1.PodSpec{
				Containers: []corev1.Container{{Name: "hello", Image: framework.TestServerImage, ImagePullPolicy: corev1.PullNever,
					Command: []string{"/usr/local/bin/testserver", "-listen=:8080"}}}}}}}
	if _, err := cs.AppsV1().Deployments(ns).Create(ctx, dep, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	svc, err := cs.CoreV1().Services(ns).Create(ctx, &corev1.Service{ObjectMeta: metav1.ObjectMeta{Name: "hello"},
		Spec: corev1.ServiceSpec{Selector: labels, Ports: []corev1.ServicePort{{Port: 80, TargetPort: intstr.FromInt32(8080)}}}}, metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	waitDeploymentAvailable(t, cs, ns, "hello", 3*time.Minute)
	pods, _ := cs.CoreV1().Pods(ns).List(ctx, metav1.ListOptions{LabelSelector: "app=hello"})
	for _, p := range pods.Items {
		if p.Spec.HostNetwork || !strings.HasPrefix(p.Status.PodIP, "10.244.") {
			t.Errorf("pod %s has IP %q, want one on the pod network 10.244.0.0/16", p.Name, p.Status.PodIP)
		}
	}
	url := fmt.Sprintf("http://%s/", svc.Spec.ClusterIP)
	framework.WaitT(t, "Service "+url+" through kube-proxy", 2*time.Minute, func(ctx context.Context) (bool, string, error) {
		out, err := node.Exec(ctx, "curl", "-sS", "--max-time", "3", url)
		return err == nil && strings.Contains(out, "testserver on"), out, err
	})
}

// checkApplyIsNoOpThenRollsOut: `kubectl apply -f manifests/` right after
// start changes no workload; a changed controller-manager flag rolls out.
func checkApplyIsNoOpThenRollsOut(t *testing.T, assetDir string, cs kubernetes.Interface) {
	t.Helper()
	ctx := context.Background()
	kubectl := func(args ...string) (string, error) {
		cmd := exec.Command(framework.Bin("kubectl"), append([]string{"--kubeconfig", assets.Path(assetDir, assets.AdminKubeconfig)}, args...)...)
		out, err := cmd.CombinedOutput()
		return string(out), err
	}
	mustKubectl := func(args ...string) string {
		out, err := kubectl(args...)
		if err != nil {
			t.Fatalf("kubectl %s: %v\n%s", strings.Join(args, " "), err, out)
		}
		return out
	}
	// What defines a roll-out: ReplicaSets and DaemonSet revisions.
	revisions := func() string {
		rs, err := cs.AppsV1().ReplicaSets(assets.KubeSystem).List(ctx, metav1.ListOptions{})
		if err != nil {
			t.Fatal(err)
		}
		cr, err := cs.AppsV1().ControllerRevisions(assets.KubeSystem).List(ctx, metav1.ListOptions{})
		if err != nil {
			t.Fatal(err)
		}
		var names []string
		for _, r := range rs.Items {
			names = append(names, "rs/"+r.Name)
		}
		for _, r := range cr.Items {
			names = append(names, "rev/"+r.Name)
		}
		return strings.Join(names, " ")
	}
	manifests := assets.Path(assetDir, assets.ManifestsDir)
	// kubectl diff exits 0 when applying would change nothing.
	if out, err := kubectl("diff", "-f", manifests); err != nil {
		t.Errorf("kubectl diff -f manifests/ right after start shows changes (%v):\n%s", err, out)
	}
	before := revisions()
	mustKubectl("apply", "-f", manifests)
	if after := revisions(); after != before {
		t.Errorf("kubectl apply of the rendered manifests rolled workloads out: %s -> %s", before, after)
	}
	// Change a controller-manager flag and re-apply: it rolls out.
	path := assets.Path(assetDir, "manifests/11-kube-controller-manager.yaml")
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	changed := strings.Replace(string(data), "- --profiling=false", "- --profiling=false\n        - --concurrent-deployment-syncs=4", 1)
	if changed == string(data) {
		t.Fatal("could not find the --profiling flag to add one beside")
	}
	edited := filepath.Join(t.TempDir(), "kcm.yaml")
	os.WriteFile(edited, []byte(changed), 0o600)
	mustKubectl("apply", "-f", edited)
	framework.WaitT(t, "controller-manager rollout with the new flag", 4*time.Minute, func(ctx context.Context) (bool, string, error) {
		d, err := cs.AppsV1().Deployments(assets.KubeSystem).Get(ctx, assets.KubeControllerManager, metav1.GetOptions{})
		if err != nil {
			return false, "", err
		}
		s := d.Status
		state := fmt.Sprintf("generation %d/%d, %d updated, %d available, %d total", s.ObservedGeneration, d.Generation, s.UpdatedReplicas, s.AvailableReplicas, s.Replicas)
		return s.ObservedGeneration >= d.Generation && s.UpdatedReplicas == *d.Spec.Replicas && s.AvailableReplicas == *d.Spec.Replicas && s.Replicas == *d.Spec.Replicas, state, nil
	})
	pods, _ := cs.CoreV1().Pods(assets.KubeSystem).List(ctx, metav1.ListOptions{LabelSelector: assets.ComponentLabel + "=" + assets.KubeControllerManager})
	for _, p := range pods.Items {
		if p.DeletionTimestamp == nil && !strings.Contains(strings.Join(p.Spec.Containers[0].Args, " "), "--concurrent-deployment-syncs=4") {
			t.Errorf("controller-manager pod %s still runs the old flags", p.Name)
		}
	}
}
