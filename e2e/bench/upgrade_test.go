//go:build e2e && bench

package bench

import (
	"context"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/bootstrap-k8s/bootstrap/e2e/framework"
	"github.com/bootstrap-k8s/bootstrap/pkg/assets"
)

// runUpgrade is run U-A: a cluster started on the previous minor, upgraded
// by `bootstrap upgrade apply` under the traffic poller (reads and writes
// every 50 ms through the admin kubeconfig).
func runUpgrade(t *testing.T, rep *Report) {
	node := framework.StartNode(t, framework.NodeOptions{})
	node.UsePreviousVersion(t)
	assetDir := node.Render(t, "--kubernetes-version", framework.PreviousVersion)
	node.StartKubelet(t, assetDir)
	if _, p, err := node.RunBootstrap(t, "bootstrap-start", 10*time.Minute, "start", "--asset-dir", assetDir); err != nil {
		t.Fatalf("bootstrap start on %s: %v\n%s", framework.PreviousVersion, err, p.Tail(30))
	}
	cs := framework.MustClient(t, assets.Path(assetDir, assets.AdminKubeconfig))
	// As a user would: upgrade once plan says the control plane is healthy
	// (the add-ons come up after start exits).
	framework.WaitT(t, "upgrade plan to say go", 5*time.Minute, func(ctx context.Context) (bool, string, error) {
		out, err := node.Exec(ctx, framework.BootstrapBinary(t), "upgrade", "plan", "--asset-dir", assetDir, "--to", framework.KubernetesVersion)
		return err == nil, lastLine(out), nil
	})
	traffic := framework.PollTraffic(t, cs, "")
	d, p, err := node.RunBootstrap(t, "bootstrap-upgrade", 20*time.Minute, "upgrade", "apply", "--asset-dir", assetDir, "--to", framework.KubernetesVersion)
	keepLog(t, p.LogPath, "U-bootstrap-upgrade.log")
	time.Sleep(5 * time.Second)
	res := traffic.Stop()
	if err != nil {
		t.Fatalf("bootstrap upgrade apply: %v\n%s", err, p.Tail(40))
	}
	rep.Upgrade = map[string]float64{
		"upgrade_s":               d.Seconds(),
		"upgrade_failed_requests": float64(res.Failed()),
		"upgrade_longest_gap_s":   res.LongestGap().Seconds(),
		"upgrade_polled_requests": float64(res["read"].Requests + res["write"].Requests),
	}
	t.Logf("bootstrap upgrade apply %s -> %s: %s; %s", framework.PreviousVersion, framework.KubernetesVersion, d.Round(100*time.Millisecond), res)
}

// runKubeadmUpgrade is run U-B, the anchor: `kubeadm init` on the previous
// minor, then `kubeadm upgrade apply` (the new kubeadm) under the same
// poller. kubeadm replaces kube-apiserver's static pod: on one node the API
// is down in between.
func runKubeadmUpgrade(t *testing.T, rep *Report) {
	framework.ClaimKubeadmHost(t)
	node := framework.StartNode(t, framework.NodeOptions{})
	node.UsePreviousVersion(t)
	t.Cleanup(func() {
		keepLog(t, filepath.Join(node.LogDir(), "kubeadm-upgrade.log"), "U-kubeadm-upgrade.log")
	})
	node.RunKubeadmInit(t, 5*time.Minute)
	cs := framework.MustClient(t, filepath.Join(framework.KubernetesDir, "admin.conf"))
	time.Sleep(10 * time.Second)
	traffic := framework.PollTraffic(t, cs, "")
	begin := time.Now()
	p := node.Start(t, "kubeadm-upgrade", framework.Bin("kubeadm"), "upgrade", "apply", framework.KubernetesVersion, "--yes",
		"--etcd-upgrade=false", "--ignore-preflight-errors=all",
		// The harness kubelet's config is node.sh's, not kubeadm's
		// /var/lib/kubelet/config.yaml; CoreDNS was skipped at init.
		"--skip-phases=kubelet-config,addon/coredns", "--kubeconfig", filepath.Join(framework.KubernetesDir, "admin.conf"), "-v", "1")
	framework.WaitT(t, "kubeadm upgrade apply to exit", 20*time.Minute, func(context.Context) (bool, string, error) {
		done, _ := p.Exited()
		return done, p.Tail(2), nil
	})
	d := time.Since(begin)
	time.Sleep(5 * time.Second)
	res := traffic.Stop()
	if _, err := p.Exited(); err != nil {
		t.Fatalf("kubeadm upgrade apply: %v\n%s", err, p.Tail(40))
	}
	for k, v := range map[string]float64{
		"kubeadm_upgrade_s":               d.Seconds(),
		"kubeadm_upgrade_failed_requests": float64(res.Failed()),
		"kubeadm_upgrade_longest_gap_s":   res.LongestGap().Seconds(),
	} {
		if rep.Upgrade == nil {
			rep.Upgrade = map[string]float64{}
		}
		rep.Upgrade[k] = v
	}
	t.Logf("kubeadm upgrade apply %s -> %s: %s; %s", framework.PreviousVersion, framework.KubernetesVersion, d.Round(100*time.Millisecond), res)
	if res.Failed() == 0 {
		rep.Notes = append(rep.Notes, fmt.Sprintf("kubeadm upgrade apply lost no request (longest gap %s)", res.LongestGap().Round(time.Millisecond)))
	}
}

func lastLine(s string) string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	return lines[len(lines)-1]
}
