//go:build e2e

package framework

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// MultiNodeOptions are the options of node i (1, 2, ...) of the multi-node
// segment: one host bridge, node i at <net>.<i+1>, the host at <net>.1, each
// node its own netns, work dir, cgroup root and mount namespace
// (hack/node/node.sh multi-node mode). The environment moves the segment
// off another run's: BOOTSTRAP_E2E_MULTI_PREFIX (netns, node and bridge
// names; default bsmn), BOOTSTRAP_E2E_MULTI_NET (first three octets; default
// 10.252.0), BOOTSTRAP_E2E_MULTI_WORK (work dir prefix; default
// /var/lib/bootstrap-e2e/mn, node i gets <prefix>-<i>).
func MultiNodeOptions(i int, cni string) NodeOptions {
	prefix := envOr("BOOTSTRAP_E2E_MULTI_PREFIX", "bsmn")
	net := envOr("BOOTSTRAP_E2E_MULTI_NET", "10.252.0")
	name := fmt.Sprintf("%s%d", prefix, i)
	return NodeOptions{
		Name: name, Netns: name,
		IP: fmt.Sprintf("%s.%d", net, i+1), HostIP: net + ".1",
		Work:   fmt.Sprintf("%s-%d", envOr("BOOTSTRAP_E2E_MULTI_WORK", "/var/lib/bootstrap-e2e/mn"), i),
		Bridge: prefix + "-br", CNI: cni,
	}
}

// WriteNodeKubeletConfig writes the node's own kubelet settings (what
// node.sh's kubelet config holds: runtime endpoint, cgroups, paths, ports)
// for `bootstrap join --node-kubelet-config`, and returns the path.
func (n *Node) WriteNodeKubeletConfig(t testing.TB) string {
	t.Helper()
	path := filepath.Join(n.Work, "kubelet-node.yaml")
	if out, err := n.script("node-kubelet-config", path); err != nil {
		t.Fatalf("node.sh node-kubelet-config: %v\n%s", err, out)
	}
	return path
}

// JoinPaths are where `bootstrap join` writes on this node: --kubernetes-dir
// and --kubelet-config.
func (n *Node) JoinPaths() (kubernetesDir, kubeletConfig string) {
	return filepath.Join(n.Work, "etc", "kubernetes"), filepath.Join(n.Work, "kubelet-config.yaml")
}

// StartJoinedKubelet starts the kubelet of a node `bootstrap join` prepared
// (JoinPaths): it TLS-bootstraps with the token.
func (n *Node) StartJoinedKubelet(t testing.TB) {
	t.Helper()
	dir, cfg := n.JoinPaths()
	start := time.Now()
	cmd := []string{"KUBELET_BOOTSTRAP_KUBECONFIG=" + filepath.Join(dir, "bootstrap-kubelet.conf"),
		"KUBELET_KUBECONFIG=" + filepath.Join(dir, "kubelet.conf"), "KUBELET_CONFIG=" + cfg}
	out, err := n.scriptEnv(cmd, "kubelet")
	if err != nil {
		t.Fatalf("node.sh kubelet (joined): %v\n%s\n--- kubelet log:\n%s", err, out, tailFile(filepath.Join(n.LogDir(), "kubelet.log"), 60))
	}
	t.Logf("node %s: joined kubelet healthy in %s", n.Name, time.Since(start).Round(10*time.Millisecond))
}

// FilesUnder lists the regular files under dir ("" when it does not exist).
func FilesUnder(dir string) string {
	var files []string
	_ = filepath.Walk(dir, func(p string, fi os.FileInfo, err error) error {
		if err == nil && !fi.IsDir() {
			files = append(files, p)
		}
		return nil
	})
	return strings.Join(files, " ")
}
