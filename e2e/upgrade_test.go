//go:build e2e

package e2e

import (
	"os/exec"
	"reflect"
	"testing"
	"time"

	"github.com/bootstrap-k8s/bootstrap/e2e/framework"
	"github.com/bootstrap-k8s/bootstrap/pkg/assets"
)

// TestUpgradeMinorByKubectlApply: a cluster started on the previous minor is
// upgraded the way docs/upgrades.md tells users to: re-render the same asset
// dir for the new version, kubectl apply kube-apiserver first and wait for
// it, then the rest, then replace the kubelet. A client polling reads and
// writes every 50 ms and a client of the user Service see no failure; the
// cluster ends on the new version with every object it had.
func TestUpgradeMinorByKubectlApply(t *testing.T) {
	node, assetDir, cs, serviceURL := startOnPreviousVersion(t)
	before := snapshotObjects(t, cs, upgradeNamespaces)
	if len(before) != 204 {
		t.Fatalf("recorded %d objects, want 204", len(before))
	}
	traffic := framework.PollTraffic(t, cs, serviceURL)
	began := time.Now()

	out, err := exec.Command(framework.BootstrapBinary(t), "render", "--asset-dir", assetDir, "--kubernetes-version", framework.KubernetesVersion).CombinedOutput()
	if err != nil {
		traffic.Stop()
		t.Fatalf("re-render for %s: %v\n%s", framework.KubernetesVersion, err, out)
	}
	manifests := assets.Path(assetDir, assets.ManifestsDir)
	if _, err := kubectlAs(t, assetDir, "apply", "-f", manifests+"/10-kube-apiserver.yaml"); err != nil {
		traffic.Stop()
		t.Fatal("kubectl apply of kube-apiserver failed")
	}
	rolloutStatus(t, node, assetDir, "daemonset/"+assets.KubeAPIServer, 6*time.Minute)
	apiserverDone := time.Since(began)
	if _, err := kubectlAs(t, assetDir, "apply", "-f", manifests); err != nil {
		traffic.Stop()
		t.Fatal("kubectl apply -f manifests/ failed")
	}
	for _, w := range []string{"deployment/" + assets.KubeControllerManager, "deployment/" + assets.KubeScheduler, "daemonset/" + assets.KubeProxy} {
		rolloutStatus(t, node, assetDir, w, 4*time.Minute)
	}
	if framework.HasImage(framework.CoreDNSImage) {
		rolloutStatus(t, node, assetDir, "deployment/"+assets.CoreDNS, 4*time.Minute)
	}
	controlPlaneDone := time.Since(began)
	// The node step: the kubelet binary is replaced and restarted; pods keep
	// running meanwhile.
	node.StopKubelet(t)
	node.KubeletBin = ""
	node.StartKubelet(t, assetDir)
	checkKubeletVersion(t, cs, framework.KubernetesVersion)
	// Requests keep counting a little after the last step: a late restart of
	// a pod would fail some.
	time.Sleep(15 * time.Second)
	res := traffic.Finish(t, "the upgrade")
	t.Logf("upgrade %s -> %s: kube-apiserver rolled in %s, control plane in %s, with the kubelet %s; %d failed requests, longest gap %s",
		framework.PreviousVersion, framework.KubernetesVersion, apiserverDone.Round(time.Second), controlPlaneDone.Round(time.Second),
		time.Since(began).Round(time.Second), res.Failed(), res.LongestGap().Round(time.Millisecond))

	waitKubeSystemReady(t, cs)
	checkRunsVersion(t, cs, framework.KubernetesVersion)
	if out, err := kubectlAs(t, assetDir, "version"); err != nil || !containsLine(out, "Server Version: "+framework.KubernetesVersion) {
		t.Errorf("kubectl version does not report server %s", framework.KubernetesVersion)
	}
	checkLeasesFresh(t, cs)
	if after := snapshotObjects(t, cs, upgradeNamespaces); !reflect.DeepEqual(before, after) {
		for k, v := range before {
			if after[k] != v {
				t.Errorf("object %s changed or lost across the upgrade", k)
			}
		}
	}
}
