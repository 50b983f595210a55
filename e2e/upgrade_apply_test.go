//go:build e2e

package e2e

import (
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/bootstrap-k8s/bootstrap/e2e/framework"
	"github.com/bootstrap-k8s/bootstrap/pkg/assets"
)

// TestUpgradeApplyRollsBackThenUpgrades: `bootstrap upgrade` on a cluster of
// the previous minor. plan names the steps; an apply whose kube-apiserver
// cannot start (a bad flag in the configuration) is rolled back and exits
// non-zero naming the pod, while the old kube-apiserver serves every
// request; the asset dir comes back as it was. Without the bad flag, apply
// moves the control plane to the new version with no failed request, and a
// second apply has nothing to do.
func TestUpgradeApplyRollsBackThenUpgrades(t *testing.T) {
	node, assetDir, cs, serviceURL := startOnPreviousVersion(t)
	before := snapshotObjects(t, cs, upgradeNamespaces)
	bootstrap := func(timeout time.Duration, args ...string) (string, error) {
		ctx, cancel := context.WithTimeout(context.Background(), timeout)
		defer cancel()
		// On the node, as users run it: etcd's client port is on its addresses.
		out, err := node.Exec(ctx, append([]string{framework.BootstrapBinary(t)}, args...)...)
		t.Logf("bootstrap %s (%v):\n%s", strings.Join(args, " "), err, out)
		return out, err
	}
	plan, err := bootstrap(time.Minute, "upgrade", "plan", "--asset-dir", assetDir, "--to", framework.KubernetesVersion)
	if err != nil || !strings.Contains(plan, "daemonset kube-apiserver") || !strings.Contains(plan, "kubelet on "+node.Name) {
		t.Fatalf("upgrade plan: %v", err)
	}
	if _, err := bootstrap(time.Minute, "upgrade", "plan", "--asset-dir", assetDir, "--to", "v1.39.0"); exitCode(err) != 3 {
		t.Errorf("upgrade plan to an unsupported version: exit %d, want 3", exitCode(err))
	}

	// A configuration whose kube-apiserver cannot start.
	cfgPath := assets.Path(assetDir, assets.ConfigFile)
	good, err := os.ReadFile(cfgPath)
	if err != nil {
		t.Fatal(err)
	}
	bad := strings.Replace(string(good), "apiServer:\n", "apiServer:\n  extraArgs:\n    no-such-flag: \"true\"\n", 1)
	if bad == string(good) {
		t.Fatal("could not add an extra argument to the configuration")
	}
	if err := os.WriteFile(cfgPath, []byte(bad), 0o600); err != nil {
		t.Fatal(err)
	}
	manifestsBefore := readDir(t, assets.Path(assetDir, assets.ManifestsDir))
	traffic := framework.PollTraffic(t, cs, serviceURL)
	out, err := bootstrap(10*time.Minute, "upgrade", "apply", "--asset-dir", assetDir, "--to", framework.KubernetesVersion, "--component-timeout", "75s")
	res := traffic.Finish(t, "the rolled-back upgrade")
	if exitCode(err) != 1 || !strings.Contains(out, "rolled back") || !strings.Contains(out, "kube-apiserver") || !strings.Contains(out, "container kube-apiserver") {
		t.Errorf("upgrade apply with a broken kube-apiserver: exit %d, want 1 with the roll-back and the failing container named", exitCode(err))
	}
	t.Logf("rolled-back upgrade: %d failed requests, longest gap %s", res.Failed(), res.LongestGap().Round(time.Millisecond))
	waitKubeSystemReady(t, cs)
	checkRunsVersion(t, cs, framework.PreviousVersion)
	if got := readDir(t, assets.Path(assetDir, assets.ManifestsDir)); !reflect.DeepEqual(got, manifestsBefore) {
		t.Error("the roll-back did not restore the asset dir's manifests")
	}
	if backups, _ := filepath.Glob(assets.Path(assetDir, "backups/etcd-snapshot-*.db")); len(backups) != 1 {
		t.Errorf("snapshots before the upgrade: %v, want one", backups)
	}

	// The real upgrade.
	if err := os.WriteFile(cfgPath, good, 0o600); err != nil {
		t.Fatal(err)
	}
	traffic = framework.PollTraffic(t, cs, serviceURL)
	began := time.Now()
	if _, err := bootstrap(15*time.Minute, "upgrade", "apply", "--asset-dir", assetDir, "--to", framework.KubernetesVersion); err != nil {
		traffic.Stop()
		t.Fatalf("upgrade apply: %v", err)
	}
	controlPlane := time.Since(began)
	node.StopKubelet(t)
	node.KubeletBin = ""
	node.StartKubelet(t, assetDir)
	checkKubeletVersion(t, cs, framework.KubernetesVersion)
	time.Sleep(15 * time.Second)
	res = traffic.Finish(t, "bootstrap upgrade apply")
	t.Logf("bootstrap upgrade apply %s -> %s: control plane in %s, with the kubelet %s; %d failed requests, longest gap %s",
		framework.PreviousVersion, framework.KubernetesVersion, controlPlane.Round(time.Second), time.Since(began).Round(time.Second),
		res.Failed(), res.LongestGap().Round(time.Millisecond))
	waitKubeSystemReady(t, cs)
	checkRunsVersion(t, cs, framework.KubernetesVersion)
	checkLeasesFresh(t, cs)
	if after := snapshotObjects(t, cs, upgradeNamespaces); !reflect.DeepEqual(before, after) {
		t.Errorf("objects changed or lost across the upgrade: %d before, %d after", len(before), len(after))
	}
	// Idempotent: nothing left to do.
	if out, err := bootstrap(2*time.Minute, "upgrade", "apply", "--asset-dir", assetDir, "--to", framework.KubernetesVersion); err != nil || !strings.Contains(out, "Nothing to roll") {
		t.Errorf("a second upgrade apply: %v, want nothing to roll", err)
	}
}

func readDir(t *testing.T, dir string) map[string]string {
	t.Helper()
	out := map[string]string{}
	files, _ := filepath.Glob(filepath.Join(dir, "*"))
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		out[filepath.Base(f)] = string(data)
	}
	return out
}

// exitCode is the exit status of a finished command (0 when err is nil).
func exitCode(err error) int {
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		return ee.ExitCode()
	}
	if err != nil {
		return -1
	}
	return 0
}
