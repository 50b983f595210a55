//go:build e2e

package framework

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"
)

// The steps of the recovery scenario, shared by TestRecoverFromBackup and the
// benchmark's recover_s: back up, lose the control plane permanently, recover.

// BackupEtcd runs `bootstrap backup` in the node's netns into
// <work>/backup.db and returns the file.
func (n *Node) BackupEtcd(t testing.TB, assetDir string) string {
	t.Helper()
	backup := filepath.Join(n.Work, "backup.db")
	begin := time.Now()
	out, err := n.Exec(context.Background(), BootstrapBinary(t), "backup", "--asset-dir", assetDir, "--output", backup)
	if err != nil {
		t.Fatalf("bootstrap backup: %v\n%s", err, out)
	}
	fi, err := os.Stat(backup)
	if err != nil {
		t.Fatalf("bootstrap backup wrote no %s: %v\n%s", backup, err, out)
	}
	t.Logf("backup: %s, %d bytes in %s\n%s", backup, fi.Size(), time.Since(begin).Round(time.Millisecond), out)
	return backup
}

// DestroyControlPlane simulates the permanent loss of the control plane: the
// kubelet is stopped, every container removed, the etcd static pod and all
// etcd data (persistent and boot member) deleted; then the kubelet is started
// again, as on a node that came back with an empty etcd disk.
func (n *Node) DestroyControlPlane(t testing.TB, assetDir string) {
	t.Helper()
	n.Reboot(t, assetDir, func() {
		for _, p := range []string{filepath.Join(n.StaticPodPath, "etcd.yaml"), filepath.Join(n.Work, "etcd"), filepath.Join(n.Work, "boot-etcd")} {
			if err := os.RemoveAll(p); err != nil {
				t.Fatal(err)
			}
		}
	})
}

// Reboot simulates a reboot of the node: the kubelet stops, every container
// is removed, whileDown runs (nil: nothing else is lost), and the kubelet
// starts again with only its static pods to run until an apiserver answers.
func (n *Node) Reboot(t testing.TB, assetDir string, whileDown func()) {
	t.Helper()
	n.StopKubelet(t)
	if out, err := exec.Command(Bin("cricleanup"), "-address", n.ContainerdSocket(), "-timeout", "90s").CombinedOutput(); err != nil {
		t.Fatalf("removing every container: %v\n%s", err, out)
	}
	if whileDown != nil {
		whileDown()
	}
	n.StartKubelet(t, assetDir)
}

// RunRecover runs `bootstrap recover --asset-dir assetDir --etcd-backup
// backup -v 1 EXTRA...` in the netns and waits for it (see RunBootstrap).
func (n *Node) RunRecover(t testing.TB, assetDir, backup string, timeout time.Duration, extra ...string) (time.Duration, *Process, error) {
	t.Helper()
	args := append([]string{"recover", "--asset-dir", assetDir, "--etcd-backup", backup, "-v", "1"}, extra...)
	return n.RunBootstrap(t, "bootstrap-recover", timeout, args...)
}
