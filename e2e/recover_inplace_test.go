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

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/bootstrap-k8s/bootstrap/e2e/framework"
	"github.com/bootstrap-k8s/bootstrap/pkg/assets"
)

// TestRecoverAfterBadApply: a bad `kubectl delete` takes the kube-apiserver
// DaemonSet (and with it the API) while etcd keeps running.
//  1. Every bad input of `bootstrap recover` is refused with a clear error
//     and a non-zero exit, leaving the node exactly as it was.
//  2. `bootstrap recover` with no source finds the running etcd, re-creates
//     the missing DaemonSet from the asset dir, keeps every other object
//     (same UID and content), and hands over again.
//  3. The same loss, now with etcd stopped and its data dir intact:
//     `bootstrap recover --etcd-data-dir` gives the same result.
//  4. A "reboot" of the single control-plane node (every container gone,
//     the kubelet back with only the etcd static pod): `bootstrap recover`
//     on the running etcd brings the self-hosted control plane back.
func TestRecoverAfterBadApply(t *testing.T) {
	otherClusterSnapshot := anotherClustersSnapshot(t)
	node := framework.StartNode(t, framework.NodeOptions{})
	assetDir := node.Render(t)
	node.StartKubelet(t, assetDir)
	// Without the guard: this scenario is about recovering by hand (the
	// guard would bring the API back before the test could).
	if _, err := runStart(t, node, assetDir, 10*time.Minute, "--install-guard=false"); err != nil {
		t.Fatalf("bootstrap start: %v", err)
	}
	kubeconfig := assets.Path(assetDir, assets.AdminKubeconfig)
	cs := framework.MustClient(t, kubeconfig)
	createWorkload(t, cs, []string{"recover-0", "recover-1", "recover-2", "recover-3"})
	waitDeploymentAvailable(t, cs, "recover-0", "web", 3*time.Minute)
	goodBackup := filepath.Join(node.Work, "good.db")
	if out, err := node.Exec(context.Background(), framework.BootstrapBinary(t), "backup", "--asset-dir", assetDir, "--output", goodBackup); err != nil {
		t.Fatalf("bootstrap backup: %v\n%s", err, out)
	}
	apiserverDS := "daemonsets/" + assets.KubeSystem + "/" + assets.KubeAPIServer

	badApply := func() map[string]string {
		before := allDurableObjects(t, kubeconfig)
		ds, err := cs.AppsV1().DaemonSets(assets.KubeSystem).Get(context.Background(), assets.KubeAPIServer, metav1.GetOptions{})
		if err != nil {
			t.Fatal(err)
		}
		t.Logf("deleting DaemonSet kube-system/kube-apiserver (uid %s), as a bad `kubectl delete` would", ds.UID)
		if err := cs.AppsV1().DaemonSets(assets.KubeSystem).Delete(context.Background(), assets.KubeAPIServer, metav1.DeleteOptions{}); err != nil {
			t.Fatal(err)
		}
		waitAPIGone(t, cs)
		return before
	}
	recovered := func(what string, before map[string]string, out string, code int, took time.Duration) {
		t.Logf("%s: exit %d after %s; output:\n%s", what, code, took.Round(10*time.Millisecond), out)
		if code != 0 {
			t.Fatalf("%s failed with exit %d", what, code)
		}
		after := allDurableObjects(t, kubeconfig)
		compareDurable(t, what, before, after, apiserverDS)
		if _, ok := after[apiserverDS]; !ok {
			t.Errorf("%s: the kube-apiserver DaemonSet was not re-created", what)
		} else if after[apiserverDS] == before[apiserverDS] {
			t.Errorf("%s: the kube-apiserver DaemonSet has its old UID; it was deleted and must be a new object", what)
		}
		assertSelfHostedAndSettled(t, cs)
	}

	// 1 + 2: etcd runs.
	before := badApply()
	badInputs(t, node, assetDir, goodBackup, otherClusterSnapshot)
	begin := time.Now()
	out, code := runRecover(t, node, 10*time.Minute, "--asset-dir", assetDir, "-v", "1")
	recovered("recover on the running etcd", before, out, code, time.Since(begin))
	if !strings.Contains(out, "recovering on it") {
		t.Errorf("recover did not say it found the running etcd:\n%s", out)
	}

	// 3: etcd stopped, its data intact.
	before = badApply()
	dataDir := filepath.Join(node.Work, "etcd")
	if err := os.Remove(filepath.Join(node.StaticPodPath, "etcd.yaml")); err != nil {
		t.Fatal(err)
	}
	framework.WaitT(t, "etcd to stop and release its data dir", 2*time.Minute, func(ctx context.Context) (bool, string, error) {
		ss, _ := node.Exec(ctx, "ss", "-Hltn", "( sport = :2379 )")
		if strings.TrimSpace(ss) != "" {
			return false, "still listening: " + ss, nil
		}
		err := exec.Command("flock", "--nonblock", "--shared", filepath.Join(dataDir, "member", "snap", "db"), "true").Run()
		return err == nil, fmt.Sprintf("db lock: %v", err), nil
	})
	begin = time.Now()
	out, code = runRecover(t, node, 10*time.Minute, "--asset-dir", assetDir, "--etcd-data-dir", dataDir, "-v", "1")
	recovered("recover --etcd-data-dir", before, out, code, time.Since(begin))
	if aside, _ := filepath.Glob(dataDir + ".before-recover-*"); len(aside) != 1 {
		t.Errorf("want the source data dir renamed aside once, found %v", aside)
	}
	if _, err := cs.CoreV1().ConfigMaps("recover-0").Get(context.Background(), "cm-000", metav1.GetOptions{}); apierrors.IsNotFound(err) {
		t.Error("cm-000 is gone after recover --etcd-data-dir")
	}

	// 4: the node "reboots": every container gone, the kubelet starts again
	// and runs the etcd static pod, but knows no apiserver to learn the
	// self-hosted pods from. `bootstrap recover` on the running etcd.
	before = allDurableObjects(t, kubeconfig)
	node.Reboot(t, assetDir, nil)
	framework.WaitT(t, "etcd back from its static pod", 2*time.Minute, func(ctx context.Context) (bool, string, error) {
		ss, _ := node.Exec(ctx, "ss", "-Hltn", "( sport = :2379 )")
		return strings.TrimSpace(ss) != "", "not listening yet", nil
	})
	waitAPIGone(t, cs)
	begin = time.Now()
	out, code = runRecover(t, node, 10*time.Minute, "--asset-dir", assetDir, "-v", "1")
	t.Logf("recover after a reboot: exit %d after %s; output:\n%s", code, time.Since(begin).Round(10*time.Millisecond), out)
	if code != 0 {
		t.Fatalf("recover after a reboot failed with exit %d", code)
	}
	compareDurable(t, "recover after a reboot", before, allDurableObjects(t, kubeconfig))
	assertSelfHostedAndSettled(t, cs)
}

// badInputs: each wrong `bootstrap recover` exits non-zero, says what is
// wrong, and leaves the node as it was.
func badInputs(t *testing.T, node *framework.Node, assetDir, goodBackup, other string) {
	data, err := os.ReadFile(goodBackup)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	truncated, random := filepath.Join(dir, "truncated.db"), filepath.Join(dir, "random.db")
	os.WriteFile(truncated, data[:len(data)/3], 0o600)
	noise := make([]byte, len(data))
	for i := range noise {
		noise[i] = byte(i*7919 + i>>3)
	}
	os.WriteFile(random, noise, 0o600)
	etcdData := filepath.Join(node.Work, "etcd")

	tests := []struct {
		name string
		args []string
		want string
		// noKubelet stops the kubelet for this case.
		noKubelet bool
	}{
		{"truncated snapshot", []string{"--asset-dir", assetDir, "--etcd-backup", truncated}, "truncated", false},
		{"random bytes", []string{"--asset-dir", assetDir, "--etcd-backup", random}, "not a valid etcd snapshot", false},
		{"another cluster's snapshot", []string{"--asset-dir", assetDir, "--etcd-backup", other}, "belongs to another cluster", false},
		{"missing asset dir", []string{"--asset-dir", filepath.Join(dir, "no-such-assets"), "--etcd-backup", goodBackup}, "bootstrap render", false},
		{"data dir in use by the running etcd", []string{"--asset-dir", assetDir, "--etcd-data-dir", etcdData}, "in use by a running etcd", false},
		{"two sources", []string{"--asset-dir", assetDir, "--etcd-backup", goodBackup, "--etcd-data-dir", etcdData}, "give one source", false},
		{"no kubelet", []string{"--asset-dir", assetDir, "--etcd-backup", goodBackup}, "kubelet does not answer", true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if tc.noKubelet {
				node.StopKubelet(t)
				defer node.StartKubelet(t, assetDir)
			}
			before := nodeState(t, node, assetDir)
			out, code := runRecover(t, node, 2*time.Minute, tc.args...)
			t.Logf("exit %d:\n%s", code, out)
			if code == 0 || !strings.Contains(out, tc.want) {
				t.Errorf("exit %d; want non-zero and the output to say %q", code, tc.want)
			}
			if after := nodeState(t, node, assetDir); after != before {
				t.Errorf("the node changed:\n%s", lineDiff(before, after))
			}
		})
	}
}

// lineDiff lists lines only in a (-) or only in b (+).
func lineDiff(a, b string) string {
	in := func(s string) map[string]bool {
		m := map[string]bool{}
		for _, l := range strings.Split(s, "\n") {
			m[l] = true
		}
		return m
	}
	am, bm := in(a), in(b)
	var out []string
	for l := range am {
		if !bm[l] {
			out = append(out, "- "+l)
		}
	}
	for l := range bm {
		if !am[l] {
			out = append(out, "+ "+l)
		}
	}
	return strings.Join(out, "\n")
}
