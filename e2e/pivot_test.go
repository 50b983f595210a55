//go:build e2e

package e2e

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"

	"github.com/bootstrap-k8s/bootstrap/e2e/framework"
	"github.com/bootstrap-k8s/bootstrap/internal/testtree"
	"github.com/bootstrap-k8s/bootstrap/pkg/assets"
	"github.com/bootstrap-k8s/bootstrap/pkg/status"
)

// TestPivot: one cluster, the way out of self-hosting and back. The
// refusals change nothing (unknown --to, already self-hosted, an asset dir
// of another cluster, a dry run); the pivot to static pods loses no request
// of a 50 ms poller; a power cut brings the node back on its static pods
// alone (no guard, no temporary apiserver); the pivot back loses no request
// either, and status reads Healthy.
func TestPivot(t *testing.T) {
	node := framework.StartNode(t, framework.NodeOptions{})
	assetDir := node.Render(t)
	node.StartKubelet(t, assetDir)
	if _, err := runStart(t, node, assetDir, 10*time.Minute); err != nil {
		t.Fatalf("bootstrap start: %v", err)
	}
	kubeconfig := assets.Path(assetDir, assets.AdminKubeconfig)
	cs := framework.MustClient(t, kubeconfig)
	waitKubeSystemReady(t, cs)
	coreDNSMissing := !framework.HasImage(framework.CoreDNSImage)
	healthy := func(rep *status.Report, code int) bool {
		return code == 0 || (coreDNSMissing && code == 1 && onlyNotHealthy(rep, status.CompCoreDNS))
	}
	waitStatus(t, node, assetDir, 2*time.Minute, healthy)
	pivot := func(args ...string) (string, int) {
		return runBootstrap(t, node, append([]string{"pivot", "--asset-dir", assetDir}, args...)...)
	}
	// pivotUnderTraffic pivots while a 50 ms poller reads and writes; the
	// poller fails the test on any failed request.
	pivotUnderTraffic := func(t *testing.T, to string) {
		poller := framework.PollTraffic(t, cs, "")
		begin := time.Now()
		out, code := pivot("--to", to, "-v", "1")
		took := time.Since(begin)
		res := poller.Finish(t, "the pivot to "+to)
		t.Logf("pivot --to %s: exit %d in %s (%d failed requests, longest gap %s)\n%s", to, code, took.Round(100*time.Millisecond), res.Failed(), res.LongestGap().Round(time.Millisecond), out)
		if code != 0 {
			t.Fatalf("pivot --to %s: exit %d", to, code)
		}
	}

	t.Run("refusals change nothing", func(t *testing.T) {
		manifests := testtree.Snapshot(t, node.StaticPodPath)
		if out, code := pivot("--to", "kubeadm"); code != 3 || !strings.Contains(out, `unknown --to "kubeadm"`) {
			t.Errorf("unknown --to: exit %d: %s", code, out)
		}
		if out, code := pivot("--to", "self-hosted"); code != 0 || !strings.Contains(out, "already runs as self-hosted") {
			t.Errorf("already self-hosted: exit %d: %s", code, out)
		}
		other := filepath.Join(node.Work, "other-cluster")
		if b, err := exec.Command(framework.BootstrapBinary(t), "render", "--config", filepath.Join(node.Work, "cluster.yaml"), "--asset-dir", other).CombinedOutput(); err != nil {
			t.Fatalf("render another cluster: %v\n%s", err, b)
		}
		if out, code := runBootstrap(t, node, "pivot", "--to", "static-pods", "--asset-dir", other, "--force"); code != 2 || !strings.Contains(out, "another cluster") {
			t.Errorf("asset dir of another cluster: exit %d: %s", code, out)
		}
		out, code := pivot("--to", "static-pods", "--dry-run")
		if code != 0 || !strings.Contains(out, "Dry run: nothing was changed") || !strings.Contains(out, "kube-apiserver.yaml") {
			t.Errorf("dry run: exit %d: %s", code, out)
		}
		if ch := manifests.Changes(t, node.StaticPodPath); len(ch) > 0 {
			t.Errorf("a refused or dry-run pivot changed the static pod dir: %v", ch)
		}
		if _, err := cs.AppsV1().DaemonSets(assets.KubeSystem).Get(context.Background(), assets.KubeAPIServer, metav1.GetOptions{}); err != nil {
			t.Errorf("after the refusals: %v", err)
		}
	})

	t.Run("to static pods without a failed request", func(t *testing.T) {
		pivotUnderTraffic(t, "static-pods")
		checkStaticPods(t, cs, node)
		if out, code := pivot("--to", "static-pods"); code != 0 || !strings.Contains(out, "already runs as static-pods") {
			t.Errorf("pivot again: exit %d: %s", code, out)
		}
		rep := waitStatus(t, node, assetDir, 2*time.Minute, healthy)
		if r := findRow(t, rep, status.CompControllerManager, ""); !strings.Contains(r.Detail, "static pods") {
			t.Errorf("controller-manager row on static pods: %+v", r)
		}
	})

	t.Run("power cut: back on static pods alone", func(t *testing.T) {
		node.PowerCut(t)
		since := node.PowerOn(t, assetDir)
		r, err := framework.WaitPowerCycle(context.Background(), kubeconfig, since, 5*time.Minute)
		t.Logf("power cycle on static pods: %s", r)
		if err != nil {
			t.Fatal(err)
		}
		if r.Temporary {
			t.Errorf("a temporary apiserver answered after the power cut: the guard should be gone")
		}
		checkStaticPods(t, cs, node)
		waitKubeSystemReady(t, cs)
	})

	t.Run("back to self-hosted without a failed request", func(t *testing.T) {
		waitStatus(t, node, assetDir, 2*time.Minute, healthy)
		pivotUnderTraffic(t, "self-hosted")
		ctx := context.Background()
		if _, err := cs.AppsV1().DaemonSets(assets.KubeSystem).Get(ctx, assets.KubeAPIServer, metav1.GetOptions{}); err != nil {
			t.Errorf("kube-apiserver DaemonSet: %v", err)
		}
		for _, c := range []string{assets.KubeAPIServer, assets.KubeControllerManager, assets.KubeScheduler} {
			if _, err := os.Stat(filepath.Join(node.StaticPodPath, c+".yaml")); !os.IsNotExist(err) {
				t.Errorf("static manifest of %s still there (%v)", c, err)
			}
			if _, err := os.Stat(filepath.Join(node.Work, "pki", c)); !os.IsNotExist(err) {
				t.Errorf("files of %s still there (%v)", c, err)
			}
		}
		for _, f := range []string{"etcd.yaml", assets.GuardStaticPodFile} {
			if _, err := os.Stat(filepath.Join(node.StaticPodPath, f)); err != nil {
				t.Errorf("%s after the pivot back: %v", f, err)
			}
		}
		waitKubeSystemReady(t, cs)
		waitStatus(t, node, assetDir, 2*time.Minute, healthy)
	})
}

// checkStaticPods: the control plane runs as static pods only: no
// DaemonSet or Deployment, the three manifests, keys 0600, no guard.
func checkStaticPods(t *testing.T, cs kubernetes.Interface, node *framework.Node) {
	t.Helper()
	ctx := context.Background()
	if _, err := cs.AppsV1().DaemonSets(assets.KubeSystem).Get(ctx, assets.KubeAPIServer, metav1.GetOptions{}); !apierrors.IsNotFound(err) {
		t.Errorf("kube-apiserver DaemonSet after the pivot: %v", err)
	}
	for _, c := range []string{assets.KubeControllerManager, assets.KubeScheduler} {
		if _, err := cs.AppsV1().Deployments(assets.KubeSystem).Get(ctx, c, metav1.GetOptions{}); !apierrors.IsNotFound(err) {
			t.Errorf("Deployment %s after the pivot: %v", c, err)
		}
	}
	for _, c := range []string{assets.KubeAPIServer, assets.KubeControllerManager, assets.KubeScheduler} {
		if _, err := os.Stat(filepath.Join(node.StaticPodPath, c+".yaml")); err != nil {
			t.Errorf("static manifest of %s: %v", c, err)
		}
		framework.WaitPodRunningReady(t, cs, assets.KubeSystem, c+"-"+node.Name, 3*time.Minute)
	}
	key := filepath.Join(node.Work, "pki", assets.KubeAPIServer, "pki", "apiserver.key")
	if fi, err := os.Stat(key); err != nil || fi.Mode().Perm() != 0o600 {
		t.Errorf("%s: %v %v", key, fi, err)
	}
	if _, err := os.Stat(filepath.Join(node.StaticPodPath, assets.GuardStaticPodFile)); !os.IsNotExist(err) {
		t.Errorf("the guard static pod is still installed (%v)", err)
	}
}
