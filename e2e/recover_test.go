//go:build e2e

package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/client-go/kubernetes"
	"k8s.io/utils/ptr"

	"github.com/bootstrap-k8s/bootstrap/e2e/framework"
	"github.com/bootstrap-k8s/bootstrap/pkg/assets"
)

// fingerprint is what must survive a recovery: identity and content.
func fingerprint(uid types.UID, content any) string {
	data, _ := json.Marshal(content)
	return string(uid) + " " + string(data)
}

// snapshotObjects records every object the scenario created, by kind/ns/name.
func snapshotObjects(t *testing.T, cs kubernetes.Interface, namespaces []string) map[string]string {
	t.Helper()
	ctx := context.Background()
	out := map[string]string{}
	for _, ns := range namespaces {
		cms, err := cs.CoreV1().ConfigMaps(ns).List(ctx, metav1.ListOptions{LabelSelector: "e2e=recover"})
		if err != nil {
			t.Fatal(err)
		}
		for _, c := range cms.Items {
			out["cm/"+ns+"/"+c.Name] = fingerprint(c.UID, c.Data)
		}
	}
	ns := namespaces[0]
	if s, err := cs.CoreV1().Secrets(ns).Get(ctx, "db", metav1.GetOptions{}); err == nil {
		out["secret/db"] = fingerprint(s.UID, s.Data)
	}
	if s, err := cs.CoreV1().Services(ns).Get(ctx, "web", metav1.GetOptions{}); err == nil {
		out["service/web"] = fingerprint(s.UID, []any{s.Spec.ClusterIP, s.Spec.Ports, s.Spec.Selector})
	}
	if d, err := cs.AppsV1().Deployments(ns).Get(ctx, "web", metav1.GetOptions{}); err == nil {
		out["deployment/web"] = fingerprint(d.UID, d.Spec.Template.Spec.Containers)
	}
	if rb, err := cs.RbacV1().RoleBindings(ns).Get(ctx, "viewers", metav1.GetOptions{}); err == nil {
		out["rolebinding/viewers"] = fingerprint(rb.UID, []any{rb.RoleRef, rb.Subjects})
	}
	return out
}

func createWorkload(t *testing.T, cs kubernetes.Interface, namespaces []string) {
	t.Helper()
	ctx := context.Background()
	for _, ns := range namespaces {
		if _, err := cs.CoreV1().Namespaces().Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns}}, metav1.CreateOptions{}); err != nil && !apierrors.IsAlreadyExists(err) {
			t.Fatal(err)
		}
	}
	for i := 0; i < 200; i++ {
		ns := namespaces[i%len(namespaces)]
		cm := &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: fmt.Sprintf("cm-%03d", i), Labels: map[string]string{"e2e": "recover"}},
			Data: map[string]string{"i": fmt.Sprint(i), "payload": fmt.Sprintf("value-%d", i*7)}}
		if _, err := cs.CoreV1().ConfigMaps(ns).Create(ctx, cm, metav1.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	ns := namespaces[0]
	labels := map[string]string{"app": "web"}
	objs := []func() error{
		func() error {
			_, err := cs.CoreV1().Secrets(ns).Create(ctx, &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: "db"}, StringData: map[string]string{"password": "s3cret"}}, metav1.CreateOptions{})
			return err
		},
		func() error {
			_, err := cs.CoreV1().Services(ns).Create(ctx, &corev1.Service{ObjectMeta: metav1.ObjectMeta{Name: "web"},
				Spec: corev1.ServiceSpec{Selector: labels, Ports: []corev1.ServicePort{{Port: 80, TargetPort: intstr.FromInt32(8080)}}}}, metav1.CreateOptions{})
			return err
		},
		func() error {
			_, err := cs.RbacV1().RoleBindings(ns).Create(ctx, &rbacv1.RoleBinding{ObjectMeta: metav1.ObjectMeta{Name: "viewers"},
				RoleRef:  rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "ClusterRole", Name: "view"},
				Subjects: []rbacv1.Subject{{Kind: rbacv1.GroupKind, APIGroup: rbacv1.GroupName, Name: "viewers"}}}, metav1.CreateOptions{})
			return err
		},
		func() error {
			_, err := cs.AppsV1().Deployments(ns).Create(ctx, &appsv1.Deployment{ObjectMeta: metav1.ObjectMeta{Name: "web"},
				Spec: appsv1.DeploymentSpec{Replicas: ptr.To[int32](2), Selector: &metav1.LabelSelector{MatchLabels: labels},
					Template: corev1.PodTemplateSpec{ObjectMeta: metav1.ObjectMeta{Labels: labels}, Spec: corev1.PodSpec{
						AutomountServiceAccountToken: ptr.To(false),
						Containers: []corev1.Container{{Name: "web", Image: framework.TestServerImage, ImagePullPolicy: corev1.PullNever,
							Command: []string{"/usr/local/bin/testserver", "-listen=:8080"}}}}}}}, metav1.CreateOptions{})
			return err
		},
	}
	for _, create := range objs {
		if err := create(); err != nil {
			t.Fatal(err)
		}
	}
}

func waitDeploymentAvailable(t *testing.T, cs kubernetes.Interface, ns, name string, timeout time.Duration) {
	t.Helper()
	framework.WaitT(t, "deployment "+ns+"/"+name+" available", timeout, func(ctx context.Context) (bool, string, error) {
		d, err := cs.AppsV1().Deployments(ns).Get(ctx, name, metav1.GetOptions{})
		if err != nil {
			return false, "", err
		}
		return d.Status.AvailableReplicas >= *d.Spec.Replicas, fmt.Sprintf("%d/%d available", d.Status.AvailableReplicas, *d.Spec.Replicas), nil
	})
}

// TestRecoverFromBackup: bootstrap, fill the cluster, back it up, destroy the
// control plane permanently (kubelet stopped, every container removed, the
// static pods and all etcd data deleted), recover from the backup, and find
// every object as it was.
func TestRecoverFromBackup(t *testing.T) {
	node := framework.StartNode(t, framework.NodeOptions{})
	assetDir := node.Render(t)
	node.StartKubelet(t, assetDir)
	if _, err := runStart(t, node, assetDir, 10*time.Minute); err != nil {
		t.Fatalf("bootstrap start: %v", err)
	}
	cs := framework.MustClient(t, assets.Path(assetDir, assets.AdminKubeconfig))
	namespaces := []string{"recover-0", "recover-1", "recover-2", "recover-3"}
	createWorkload(t, cs, namespaces)
	waitDeploymentAvailable(t, cs, "recover-0", "web", 3*time.Minute)
	before := snapshotObjects(t, cs, namespaces)
	if len(before) != 204 {
		t.Fatalf("recorded %d objects, want 204", len(before))
	}

	backup := node.BackupEtcd(t, assetDir)
	if _, err := cs.CoreV1().ConfigMaps("recover-0").Create(context.Background(),
		&corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: "after-backup"}}, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}

	// Permanent loss of the control plane.
	// The loss takes the guard's static pod too: recover must install it
	// again. It goes first, and its pod with it, so that the one recover
	// installs (same manifest, same static pod UID) is a new start, not a
	// restart the kubelet races with the old one's clean-up.
	if err := os.Remove(filepath.Join(node.StaticPodPath, assets.GuardStaticPodFile)); err != nil {
		t.Fatalf("the guard static pod start installed: %v", err)
	}
	framework.WaitT(t, "the guard pod to be gone", 2*time.Minute, func(ctx context.Context) (bool, string, error) {
		_, err := cs.CoreV1().Pods(assets.KubeSystem).Get(ctx, assets.GuardPodName+"-"+node.Name, metav1.GetOptions{})
		return apierrors.IsNotFound(err), fmt.Sprint(err), nil
	})
	node.DestroyControlPlane(t, assetDir)

	begin := time.Now()
	took, p, err := node.RunRecover(t, assetDir, backup, 10*time.Minute)
	t.Logf("bootstrap recover exited (%v) after %s; log:\n%s", err, took.Round(10*time.Millisecond), p.Tail(60))
	if err != nil {
		t.Fatalf("bootstrap recover: %v", err)
	}

	after := snapshotObjects(t, cs, namespaces)
	compared, missing, changed := 0, 0, 0
	for k, v := range before {
		compared++
		switch got, ok := after[k]; {
		case !ok:
			missing++
			t.Errorf("%s is missing after recover", k)
		case got != v:
			changed++
			t.Errorf("%s changed: before %s, after %s", k, v, got)
		}
	}
	t.Logf("recover: %d objects compared, %d missing, %d changed", compared, missing, changed)
	if _, err := cs.CoreV1().ConfigMaps("recover-0").Get(context.Background(), "after-backup", metav1.GetOptions{}); !apierrors.IsNotFound(err) {
		t.Errorf("a ConfigMap created after the backup exists after recover (err %v); it must not", err)
	}
	// The restored Deployment status is as stale as the backup: require pods
	// whose containers started after the recovery began.
	framework.WaitT(t, "web pods running again", 5*time.Minute, func(ctx context.Context) (bool, string, error) {
		pods, err := cs.CoreV1().Pods("recover-0").List(ctx, metav1.ListOptions{LabelSelector: "app=web"})
		if err != nil {
			return false, "", err
		}
		fresh := 0
		for _, p := range pods.Items {
			for _, c := range p.Status.ContainerStatuses {
				if c.Ready && c.State.Running != nil && c.State.Running.StartedAt.After(begin) {
					fresh++
				}
			}
		}
		return fresh >= 2, fmt.Sprintf("%d of %d pods ready since the recovery", fresh, len(pods.Items)), nil
	})
	assertSelfHostedAndSettled(t, cs)
	// After a recovery the node comes back from a reboot by itself again:
	// the guard static pod is installed and runs.
	if _, err := os.Stat(filepath.Join(node.StaticPodPath, assets.GuardStaticPodFile)); err != nil {
		t.Errorf("no guard static pod after recover: %v", err)
	}
	framework.WaitPodRunningReady(t, cs, assets.KubeSystem, assets.GuardPodName+"-"+node.Name, 2*time.Minute)
}
