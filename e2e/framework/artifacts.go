//go:build e2e

package framework

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

var unsafeName = regexp.MustCompile(`[^A-Za-z0-9_.-]+`)

// ArtifactDir is where this test's artifacts go: e2e/_artifacts/<test>.
func ArtifactDir(t testing.TB) string {
	return filepath.Join(ArtifactsRoot(), unsafeName.ReplaceAllString(t.Name(), "_"))
}

// CollectArtifacts copies the node's logs (containerd, kubelet, every process
// started with Start, pod logs), its configs, CRI/network state and — if the
// asset dir's admin kubeconfig answers — nodes, pods and events into
// ArtifactDir(t). Called automatically when a test using StartNode fails.
func (n *Node) CollectArtifacts(t testing.TB) {
	n.mu.Lock()
	if n.collected {
		n.mu.Unlock()
		return
	}
	n.collected = true
	assetDir := n.assetDir
	n.mu.Unlock()

	dir := ArtifactDir(t)
	_ = os.RemoveAll(dir)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Logf("artifacts: %v", err)
		return
	}
	copyTree(n.LogDir(), filepath.Join(dir, "logs"))
	copyTree(n.PodLogsDir(), filepath.Join(dir, "pod-logs"))
	for _, f := range []string{"kubelet-config.yaml", "containerd/config.toml", "resolv.conf"} {
		copyFile(filepath.Join(n.Work, f), filepath.Join(dir, "config", strings.ReplaceAll(f, "/", "_")))
	}
	copyTree(filepath.Join(n.Work, "cni", "net.d"), filepath.Join(dir, "config", "cni"))
	copyTree(n.StaticPodPath, filepath.Join(dir, "config", "static-pods"))

	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	run := func(file string, argv ...string) {
		cmd := exec.CommandContext(ctx, argv[0], argv[1:]...)
		cmd.Env = append(os.Environ(), n.Env()...)
		out, err := cmd.CombinedOutput()
		if err != nil {
			out = append(out, []byte(fmt.Sprintf("\n(exit: %v)\n", err))...)
		}
		_ = os.WriteFile(filepath.Join(dir, file), out, 0o644)
	}
	run("node-status.txt", "bash", NodeScript(), "status")
	run("cri.txt", "bash", NodeScript(), "crilist")
	run("images.txt", "bash", NodeScript(), "ctr", "-n", "k8s.io", "images", "ls")
	run("ip-addr.txt", "ip", "-n", n.Netns, "addr")
	run("ip-route.txt", "ip", "-n", n.Netns, "route")
	run("iptables.txt", append(append([]string{"nsenter"}, n.nsenterArgs()...), "iptables-save")...)
	run("ps.txt", "ps", "-eo", "pid,ppid,etime,args")
	// Which process holds each TCP connection: tells, during a surge on a
	// shared port, which kube-apiserver serves each client.
	run("sockets.txt", append(append([]string{"nsenter"}, n.nsenterArgs()...), "ss", "-tnpi")...)

	if assetDir != "" {
		// The break-glass identity: the temporary apiserver authorizes system:masters for sure.
		n.dumpCluster(ctx, filepath.Join(assetDir, "auth", "super-admin.kubeconfig"), dir)
		n.dumpControllerManagerMetrics(ctx, filepath.Join(assetDir, "auth", "super-admin.kubeconfig"), dir)
	}
	t.Logf("artifacts collected in %s", dir)
}

// dumpCluster writes nodes, pods and events as JSON, best effort.
func (n *Node) dumpCluster(ctx context.Context, kubeconfig, dir string) {
	cs, err := NewClient(kubeconfig)
	if err != nil {
		_ = os.WriteFile(filepath.Join(dir, "cluster-error.txt"), []byte(err.Error()), 0o644)
		return
	}
	ctx, cancel := context.WithTimeout(ctx, 15*time.Second)
	defer cancel()
	write := func(name string, obj any, err error) {
		if err != nil {
			_ = os.WriteFile(filepath.Join(dir, name+".error.txt"), []byte(err.Error()), 0o644)
			return
		}
		b, _ := json.MarshalIndent(obj, "", "  ")
		_ = os.WriteFile(filepath.Join(dir, name+".json"), b, 0o644)
	}
	nodes, err := cs.CoreV1().Nodes().List(ctx, metav1.ListOptions{})
	write("nodes", nodes, err)
	pods, err := cs.CoreV1().Pods("").List(ctx, metav1.ListOptions{})
	write("pods", pods, err)
	events, err := cs.CoreV1().Events("").List(ctx, metav1.ListOptions{})
	write("events", events, err)
	ds, err := cs.AppsV1().DaemonSets("").List(ctx, metav1.ListOptions{})
	write("daemonsets", ds, err)
	deploys, err := cs.AppsV1().Deployments("").List(ctx, metav1.ListOptions{})
	write("deployments", deploys, err)
	leases, err := cs.CoordinationV1().Leases("kube-system").List(ctx, metav1.ListOptions{})
	write("leases-kube-system", leases, err)
}

func copyTree(src, dst string) {
	_ = filepath.WalkDir(src, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return nil
		}
		rel, _ := filepath.Rel(src, p)
		target := filepath.Join(dst, rel)
		switch {
		case d.IsDir():
			_ = os.MkdirAll(target, 0o755)
		case d.Type().IsRegular():
			copyFile(p, target)
		case d.Type()&fs.ModeSymlink != 0:
			// Pod log dirs use symlinks only for /var/log/containers; follow files.
			if fi, err := os.Stat(p); err == nil && fi.Mode().IsRegular() {
				copyFile(p, target)
			}
		}
		return nil
	})
}

func copyFile(src, dst string) {
	in, err := os.Open(src)
	if err != nil {
		return
	}
	defer in.Close()
	_ = os.MkdirAll(filepath.Dir(dst), 0o755)
	out, err := os.Create(dst)
	if err != nil {
		return
	}
	defer out.Close()
	_, _ = io.Copy(out, in)
}
