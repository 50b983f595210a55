//go:build e2e

package selftest

import (
	"context"
	"fmt"
	"net/http"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/bootstrap-k8s/bootstrap/e2e/framework"
	"github.com/bootstrap-k8s/bootstrap/pkg/assets"
)

// TestKubeletJoinsTemporaryControlPlane is scenario (a): the real kubelet
// registers its Node with the TEMPORARY control plane (`bootstrap
// temp-control-plane`: embedded etcd + the k8s.io/apiserver-based apiserver)
// and runs a hostNetwork pod created through it, to Running and Ready.
func TestKubeletJoinsTemporaryControlPlane(t *testing.T) {
	node := framework.StartNode(t, framework.NodeOptions{})
	assetDir := node.Render(t)
	bin := framework.BootstrapBinary(t)
	if !framework.HasSubcommand(t, "temp-control-plane") {
		t.Fatalf("`bootstrap temp-control-plane` does not exist in this tree yet: scenario (a) needs it (pkg/tempcontrolplane)")
	}

	// The temporary control plane binds the advertise address (the node IP), so
	// it runs inside the node's network namespace.
	start := time.Now()
	tcp := node.Start(t, "temp-control-plane", bin, "temp-control-plane", "--asset-dir", assetDir)
	cs := framework.MustClient(t, assets.Path(assetDir, assets.SuperAdminKubeconfig))
	framework.WaitT(t, "temporary control plane /readyz", 90*time.Second, func(ctx context.Context) (bool, string, error) {
		if done, err := tcp.Exited(); done {
			return false, "", fmt.Errorf("temp-control-plane exited: %v; log tail:\n%s", err, tcp.Tail(40))
		}
		body, err := cs.Discovery().RESTClient().Get().AbsPath("/readyz").DoRaw(ctx)
		return err == nil, string(body), err
	})
	if v, err := cs.Discovery().ServerVersion(); err != nil {
		t.Fatalf("temporary apiserver /version: %v", err)
	} else {
		t.Logf("temporary apiserver reports %s (%s since start)", v.GitVersion, time.Since(start).Round(10*time.Millisecond))
	}

	kubeletStart := time.Now()
	node.StartKubelet(t, assetDir)
	framework.WaitNodeReady(t, cs, node.Name, 120*time.Second)
	t.Logf("kubelet start -> node %s Ready: %s", node.Name, time.Since(kubeletStart).Round(10*time.Millisecond))

	ns := "kube-system"
	ctx := context.Background()
	if _, err := cs.CoreV1().Namespaces().Get(ctx, ns, metav1.GetOptions{}); apierrors.IsNotFound(err) {
		_, err = cs.CoreV1().Namespaces().Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns}}, metav1.CreateOptions{})
		if err != nil && !apierrors.IsAlreadyExists(err) {
			t.Fatalf("create namespace %s: %v", ns, err)
		}
	}
	const port = 18080
	pod := framework.HostNetworkPod(ns, "e2e-hostnet", node.Name, port)
	podStart := time.Now()
	if _, err := cs.CoreV1().Pods(ns).Create(ctx, pod, metav1.CreateOptions{}); err != nil {
		t.Fatalf("create pod through the temporary apiserver: %v", err)
	}
	got := framework.WaitPodRunningReady(t, cs, ns, pod.Name, 120*time.Second)
	t.Logf("pod create -> Running and Ready: %s (pod IP %s, host IP %s)", time.Since(podStart).Round(10*time.Millisecond),
		got.Status.PodIP, got.Status.HostIP)
	if got.Status.PodIP != node.IP {
		t.Errorf("hostNetwork pod IP = %q, want the node IP %s", got.Status.PodIP, node.IP)
	}

	// The workload really serves on the node IP (reached from the host over the veth).
	url := fmt.Sprintf("http://%s:%d/healthz", node.IP, port)
	c := &http.Client{Timeout: 3 * time.Second}
	resp, err := c.Get(url)
	if err != nil {
		t.Fatalf("GET %s: %v", url, err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET %s: %s", url, resp.Status)
	}

	// Graceful delete goes through the kubelet (it confirms with a UID-preconditioned delete).
	if err := cs.CoreV1().Pods(ns).Delete(ctx, pod.Name, metav1.DeleteOptions{}); err != nil {
		t.Fatalf("delete pod: %v", err)
	}
	framework.WaitT(t, "pod deleted by the kubelet", 60*time.Second, func(ctx context.Context) (bool, string, error) {
		p, err := cs.CoreV1().Pods(ns).Get(ctx, pod.Name, metav1.GetOptions{})
		if apierrors.IsNotFound(err) {
			return true, "", nil
		}
		if err != nil {
			return false, "", err
		}
		return false, framework.PodSummary(p), nil
	})
}
