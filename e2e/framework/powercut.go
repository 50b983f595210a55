//go:build e2e

package framework

import (
	"context"
	"fmt"
	"net"
	"path/filepath"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"

	"github.com/bootstrap-k8s/bootstrap/pkg/tempcontrolplane"
)

// PowerCut cuts the node's power (hack/node/node.sh powercut): every
// process of the node SIGKILLed at once — kubelet, containerd, the shims,
// etcd and kube-apiserver possibly mid-write — then everything a real
// machine keeps in tmpfs is gone: pod volumes, container mounts,
// containerd's state dir, the network namespace, the pod cgroups. What is
// on disk stays. It is harsher than Reboot, which stops the kubelet and
// removes containers through the CRI.
func (n *Node) PowerCut(t testing.TB) {
	t.Helper()
	if out, err := n.script("powercut"); err != nil {
		t.Fatalf("node.sh powercut: %v\n%s", err, out)
	}
}

// PowerOn boots the node after a PowerCut: its network, containerd and the
// kubelet, exactly as configured before, and nothing else. It returns when
// the kubelet started (the instant the boot's timings count from) and
// when it answered its health check.
func (n *Node) PowerOn(t testing.TB, assetDir string) (kubeletStarted time.Time) {
	t.Helper()
	begin := time.Now()
	if out, err := n.script("net"); err != nil {
		t.Fatalf("node.sh net: %v\n%s", err, out)
	}
	if out, err := n.script("containerd"); err != nil {
		t.Fatalf("node.sh containerd: %v\n%s\n--- containerd log:\n%s", err, out, tailFile(filepath.Join(n.LogDir(), "containerd.log"), 40))
	}
	kubeletStarted = time.Now()
	n.StartKubelet(t, assetDir)
	t.Logf("node: powered on: containerd in %s, kubelet started at +%s", kubeletStarted.Sub(begin).Round(10*time.Millisecond), kubeletStarted.Sub(begin).Round(10*time.Millisecond))
	return kubeletStarted
}

// PowerOnWith boots the node like PowerOn, with a kubelet started with
// another tool's files (node.sh kubelet's KUBELET_KUBECONFIG and
// KUBELET_CLIENT_CA in env: kubeadm's, in make bench).
func (n *Node) PowerOnWith(t testing.TB, env []string) (kubeletStarted time.Time) {
	t.Helper()
	for _, step := range []string{"net", "containerd"} {
		if out, err := n.script(step); err != nil {
			t.Fatalf("node.sh %s: %v\n%s", step, err, out)
		}
	}
	kubeletStarted = time.Now()
	if out, err := n.scriptEnv(env, "kubelet"); err != nil {
		t.Fatalf("node.sh kubelet: %v\n%s", err, out)
	}
	return kubeletStarted
}

// PowerCycleResult is what a node's control plane did after a power cycle,
// each time from the kubelet's start.
type PowerCycleResult struct {
	// FirstAnswer: the first /readyz 200 on the shared address from any
	// apiserver; Temporary says whether that was a temporary apiserver
	// (the guard's recovery) rather than kube-apiserver.
	FirstAnswer time.Duration
	Temporary   bool
	// SelfHostedReadyz: kube-apiserver (not a temporary apiserver) answers
	// /readyz 200 on the shared address.
	SelfHostedReadyz time.Duration
	// Leases: the controller-manager and the scheduler renewed their
	// leases after the kubelet started.
	Leases time.Duration
	// Workloads: kube-proxy and every pod of the namespaces given to
	// WaitPowerCycle run again (started after the kubelet) and are Ready.
	Workloads time.Duration
	Answerer  string // the version that answered last
}

func (r PowerCycleResult) String() string {
	first := "kube-apiserver"
	if r.Temporary {
		first = "the temporary apiserver (guard)"
	}
	return fmt.Sprintf("from the kubelet's start: first /readyz %s (%s), self-hosted kube-apiserver /readyz %s, leases %s, workloads Ready %s; serving: %s",
		sec(r.FirstAnswer), first, sec(r.SelfHostedReadyz), sec(r.Leases), sec(r.Workloads), r.Answerer)
}

// WaitPowerCycle polls, every 100 ms over a fresh connection each time, the
// apiserver a kubeconfig names until the self-hosted control plane is back:
// kube-apiserver serves, the controllers hold fresh leases, and kube-proxy
// and the pods of namespaces run again.
func WaitPowerCycle(ctx context.Context, kubeconfig string, since time.Time, timeout time.Duration, namespaces ...string) (PowerCycleResult, error) {
	var r PowerCycleResult
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	rc, err := clientcmd.BuildConfigFromFlags("", kubeconfig)
	if err != nil {
		return r, err
	}
	rc.Timeout = 2 * time.Second
	rc.Dial = (&net.Dialer{Timeout: time.Second}).DialContext // no shared transport: fresh connections
	hc, err := rest.HTTPClientFor(rc)
	if err != nil {
		return r, err
	}
	cs, err := kubernetes.NewForConfigAndClient(rc, hc)
	if err != nil {
		return r, err
	}
	step := func(what string, done func() bool) error {
		for !done() {
			hc.CloseIdleConnections()
			select {
			case <-ctx.Done():
				return fmt.Errorf("after the power cycle, %s did not happen within %s (so far: %s)", what, timeout, r)
			case <-time.After(100 * time.Millisecond):
			}
		}
		return nil
	}
	err = step("kube-apiserver serving", func() bool {
		if _, err := cs.Discovery().RESTClient().Get().AbsPath("/readyz").DoRaw(ctx); err != nil {
			return false
		}
		v, err := cs.Discovery().ServerVersion()
		if err != nil {
			return false
		}
		if r.FirstAnswer == 0 {
			r.FirstAnswer = time.Since(since)
			r.Temporary = tempcontrolplane.IsTemporary(v)
		}
		r.Answerer = v.GitVersion + " " + v.GitCommit
		if tempcontrolplane.IsTemporary(v) {
			return false
		}
		r.SelfHostedReadyz = time.Since(since)
		return true
	})
	if err != nil {
		return r, err
	}
	err = step("fresh controller leases", func() bool {
		for _, name := range []string{"kube-controller-manager", "kube-scheduler"} {
			l, err := cs.CoordinationV1().Leases("kube-system").Get(ctx, name, metav1.GetOptions{})
			if err != nil || l.Spec.RenewTime == nil || l.Spec.HolderIdentity == nil || l.Spec.RenewTime.Time.Before(since) {
				return false
			}
		}
		r.Leases = time.Since(since)
		return true
	})
	if err != nil {
		return r, err
	}
	err = step("workloads running again", func() bool {
		// kube-proxy is labelled component= by render, k8s-app= by kubeadm.
		sel := map[string]string{"kube-system": "component=kube-proxy"}
		if l, err := cs.CoreV1().Pods("kube-system").List(ctx, metav1.ListOptions{LabelSelector: "k8s-app=kube-proxy"}); err == nil && len(l.Items) > 0 {
			sel["kube-system"] = "k8s-app=kube-proxy"
		}
		for _, ns := range namespaces {
			sel[ns] = ""
		}
		for ns, s := range sel {
			pods, err := cs.CoreV1().Pods(ns).List(ctx, metav1.ListOptions{LabelSelector: s})
			if err != nil || len(pods.Items) == 0 {
				return false
			}
			for i := range pods.Items {
				if p := &pods.Items[i]; p.DeletionTimestamp == nil && !(podReady(p) && startedAfter(p, since)) {
					return false
				}
			}
		}
		r.Workloads = time.Since(since)
		return true
	})
	return r, err
}

// startedAfter: every container of p runs, started after t.
func startedAfter(p *corev1.Pod, t time.Time) bool {
	for _, c := range p.Status.ContainerStatuses {
		if c.State.Running == nil || c.State.Running.StartedAt.Time.Before(t.Truncate(time.Second)) {
			return false
		}
	}
	return len(p.Status.ContainerStatuses) > 0
}
