//go:build e2e

package e2e

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/bootstrap-k8s/bootstrap/pkg/etcdutil"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/bootstrap-k8s/bootstrap/e2e/framework"
	"github.com/bootstrap-k8s/bootstrap/pkg/assets"
	"github.com/bootstrap-k8s/bootstrap/pkg/start"
	"github.com/bootstrap-k8s/bootstrap/pkg/tempcontrolplane"
)

// runStart runs `bootstrap start ... EXTRA` in the node's netns and waits for it.
func runStart(t *testing.T, node *framework.Node, assetDir string, timeout time.Duration, extra ...string) (time.Duration, error) {
	t.Helper()
	begin := time.Now()
	argv := append([]string{framework.BootstrapBinary(t), "start", "--asset-dir", assetDir, "-v", "1"}, extra...)
	p := node.Start(t, fmt.Sprintf("bootstrap-start-%d", begin.UnixNano()), argv...)
	var exitErr error
	framework.WaitT(t, "bootstrap start to exit", timeout, func(context.Context) (bool, string, error) {
		done, err := p.Exited()
		exitErr = err
		return done, p.Tail(3), nil
	})
	t.Logf("bootstrap start exited (%v) after %s; log:\n%s", exitErr, time.Since(begin).Round(10*time.Millisecond), p.Tail(80))
	return time.Since(begin), exitErr
}

// TestStartSelfHostedControlPlane: a fresh node, render, start; then the
// control plane is self-hosted, etcd is the persistent member alone, and no
// request was lost during the hand-over.
func TestStartSelfHostedControlPlane(t *testing.T) {
	node := framework.StartNode(t, framework.NodeOptions{})
	assetDir := node.Render(t)
	node.StartKubelet(t, assetDir)
	cs := framework.MustClient(t, assets.Path(assetDir, assets.AdminKubeconfig))
	poller := framework.PollHandover(cs)

	elapsed, err := runStart(t, node, assetDir, 10*time.Minute)
	if err != nil {
		poller.Finish(t)
		t.Fatalf("bootstrap start failed: %v", err)
	}
	t.Logf("bootstrap start: %s", elapsed.Round(10*time.Millisecond))
	// Requests keep counting for a while after start exits: a replacement of
	// the kube-apiserver pod (there must be none) would fail some of them.
	time.Sleep(20 * time.Second)
	poller.Finish(t)
	waitKubeSystemReady(t, cs)

	ctx := context.Background()
	v, err := cs.Discovery().ServerVersion()
	if err != nil || v.GitVersion != framework.KubernetesVersion || tempcontrolplane.IsTemporary(v) {
		t.Errorf("/version = %+v, %v; want kube-apiserver %s", v, err, framework.KubernetesVersion)
	}
	pods, err := cs.CoreV1().Pods(assets.KubeSystem).List(ctx, metav1.ListOptions{})
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range pods.Items {
		if p.DeletionTimestamp != nil {
			if p.Labels[assets.ComponentLabel] == assets.KubeAPIServer {
				t.Errorf("kube-apiserver pod %s is terminating: the DaemonSet replaced the pod bootstrap placed", p.Name)
			}
			continue
		}
		ref := metav1.GetControllerOf(&p)
		kind := "none"
		if ref != nil {
			kind = ref.Kind
		}
		comp := p.Labels[assets.ComponentLabel]
		t.Logf("pod %s: owner %s, %s", p.Name, kind, framework.PodSummary(&p))
		switch comp {
		case assets.KubeAPIServer:
			// The pod bootstrap placed is made as the DaemonSet controller
			// would make it, so the controller keeps it: no replacement.
			if kind != "DaemonSet" || p.Labels[start.PlacedLabel] == "" {
				t.Errorf("kube-apiserver pod %s: owner %s, placed label %q; want the pod bootstrap placed, kept by the DaemonSet", p.Name, kind, p.Labels[start.PlacedLabel])
			}
		case assets.KubeControllerManager, assets.KubeScheduler:
			if kind != "ReplicaSet" {
				t.Errorf("%s pod %s owned by %s, want a ReplicaSet", comp, p.Name, kind)
			}
		}
		if (comp != "" || p.Labels["k8s-app"] == "kube-dns" && framework.HasImage(framework.CoreDNSImage)) && !ready(&p) {
			t.Errorf("pod %s is not ready: %s", p.Name, framework.PodSummary(&p))
		}
	}
	for _, lease := range []string{assets.KubeControllerManager, assets.KubeScheduler} {
		l, err := cs.CoordinationV1().Leases(assets.KubeSystem).Get(ctx, lease, metav1.GetOptions{})
		if err != nil || l.Spec.HolderIdentity == nil {
			t.Errorf("lease %s not held: %v", lease, err)
		}
	}

	cli, err := etcdutil.New(assetDir, "https://"+node.IP+":2379")
	if err != nil {
		t.Fatal(err)
	}
	defer cli.Close()
	members, err := cli.MemberList(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, m := range members.Members {
		names = append(names, fmt.Sprintf("%s(learner=%v)", m.Name, m.IsLearner))
	}
	if len(members.Members) != 1 || members.Members[0].Name != node.Name || members.Members[0].IsLearner {
		t.Errorf("etcd members %v, want the persistent member %s alone", names, node.Name)
	}
	// This node's start only: pgrep sees the whole machine, where other
	// e2e runs start their own clusters.
	if out, _ := node.Exec(ctx, "pgrep", "-f", "bootstrap start --asset-dir "+assetDir); strings.TrimSpace(out) != "" {
		t.Errorf("a bootstrap start process is still alive: %s", out)
	}

	checkDefaultRBACUntouched(t, cs)
	checkSecurity(t, node, cs, assetDir)
	checkWorkloadAndService(t, node, cs)
	checkApplyIsNoOpThenRollsOut(t, assetDir, cs)

	// Re-running start on the bootstrapped node does no harm: it says so, exit 0.
	if _, err := runStart(t, node, assetDir, 2*time.Minute); err != nil {
		t.Errorf("re-running bootstrap start on a bootstrapped node: %v", err)
	}
}

func ready(p *corev1.Pod) bool {
	for _, c := range p.Status.Conditions {
		if c.Type == corev1.PodReady {
			return c.Status == corev1.ConditionTrue
		}
	}
	return false
}
