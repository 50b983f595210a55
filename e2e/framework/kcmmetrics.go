//go:build e2e

package framework

import (
	"bufio"
	"context"
	"crypto/tls"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"time"

	"k8s.io/client-go/tools/clientcmd"
)

// controllerManagerMetricPrefixes are the series that tell a controller-manager
// whose informer stopped hearing events (queued items 0, store resource
// version frozen) from one whose event handlers block (queued items grow),
// and which replica leads.
var controllerManagerMetricPrefixes = []string{
	"informer_", "leader_election_master_status", "workqueue_depth", "workqueue_adds_total",
	"workqueue_retries_total", "process_start_time_seconds",
	// syncs the DaemonSet controller skipped because its informers had not
	// yet seen its own writes (each one a rate-limited retry).
	"daemon_controller_",
}

// DumpControllerManagerMetrics writes the controller-managers' informer,
// leader, workqueue and DaemonSet-controller series into dir, now: for a
// test that sees a stall while it lasts.
func (n *Node) DumpControllerManagerMetrics(ctx context.Context, kubeconfig, dir string) {
	_ = os.MkdirAll(dir, 0o755)
	n.dumpControllerManagerMetrics(ctx, kubeconfig, dir)
}

// PodLogLines returns the lines of the node's pod logs whose file path
// contains pod and whose text contains any of patterns, at most max of them
// (the last ones).
func (n *Node) PodLogLines(pod string, max int, patterns ...string) []string {
	var out []string
	_ = filepath.WalkDir(n.PodLogsDir(), func(path string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() || !strings.Contains(path, pod) {
			return nil
		}
		b, err := os.ReadFile(path)
		if err != nil {
			return nil
		}
		for _, l := range strings.Split(string(b), "\n") {
			for _, p := range patterns {
				if strings.Contains(l, p) {
					out = append(out, l)
					break
				}
			}
		}
		return nil
	})
	if len(out) > max {
		out = out[len(out)-max:]
	}
	return out
}

// dumpControllerManagerMetrics scrapes the controller-managers' /metrics on
// the node's loopback (:10257, shared by both replicas, so each fresh
// connection may reach either) with the kubeconfig's client certificate and
// writes the informer, leader and workqueue series, best effort. It is the
// evidence the kube-apiserver roll-out stall of docs/upgrades.md needs.
func (n *Node) dumpControllerManagerMetrics(ctx context.Context, kubeconfig, dir string) {
	cfg, err := clientcmd.BuildConfigFromFlags("", kubeconfig)
	if err != nil {
		return
	}
	var certs []tls.Certificate
	if len(cfg.CertData) > 0 {
		if c, err := tls.X509KeyPair(cfg.CertData, cfg.KeyData); err == nil {
			certs = append(certs, c)
		}
	}
	client := &http.Client{Timeout: 10 * time.Second, Transport: n.netnsTransport(certs)}
	var out strings.Builder
	for i := 1; i <= 6; i++ {
		fmt.Fprintf(&out, "# scrape %d at %s\n", i, time.Now().Format(time.RFC3339Nano))
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, "https://127.0.0.1:10257/metrics", nil)
		resp, err := client.Do(req)
		if err != nil {
			fmt.Fprintf(&out, "# error: %v\n", err)
			continue
		}
		sc := bufio.NewScanner(resp.Body)
		sc.Buffer(make([]byte, 64*1024), 1024*1024)
		for sc.Scan() {
			line := sc.Text()
			for _, p := range controllerManagerMetricPrefixes {
				if strings.HasPrefix(line, p) {
					out.WriteString(line + "\n")
					break
				}
			}
		}
		resp.Body.Close()
	}
	_ = os.WriteFile(filepath.Join(dir, "kube-controller-manager-metrics.txt"), []byte(out.String()), 0o644)
}
