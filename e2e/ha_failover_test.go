//go:build e2e

package e2e

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"fmt"
	"math/big"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	certutil "k8s.io/client-go/util/cert"
	"k8s.io/client-go/util/keyutil"

	"github.com/bootstrap-k8s/bootstrap/e2e/framework"
	"github.com/bootstrap-k8s/bootstrap/pkg/assets"
	"github.com/bootstrap-k8s/bootstrap/pkg/etcdmembers"
)

// powerCutBehindLoadBalancer cuts the power of cut (a control-plane node)
// while a client polls through HAProxy, then powers it on again.
func powerCutBehindLoadBalancer(t *testing.T, cs kubernetes.Interface, lb *framework.HAProxy, assetDir string, cut *framework.Node, nodes []*framework.Node) {
	t.Helper()
	others, otherNames := []*framework.Node{}, map[string]bool{}
	var cps []*framework.Node
	for _, n := range nodes {
		if n != cut {
			others = append(others, n)
			otherNames[n.Name] = true
		}
	}
	cps = append(cps, others[:2]...)
	before := podsOn(t, cs, "default", otherNames)
	// Requests give up after 3 s: one whose etcd proposal died with the
	// leader would otherwise make the gap the timeout, not the failover.
	poller := framework.PollTrafficTimeout(t, cs, "", 3*time.Second)
	time.Sleep(3 * time.Second)
	cutAt := time.Now()
	cut.PowerCut(t)
	t.Logf("power cut of %s in %s", cut.Name, time.Since(cutAt).Round(10*time.Millisecond))
	down := lb.WaitServer(t, cut.Name, false, cutAt, time.Minute)
	framework.WaitT(t, "etcd quorum without "+cut.Name, time.Minute, func(context.Context) (bool, string, error) {
		ms, err := etcdMembers(t, assetDir, cps...)
		if err != nil {
			return false, err.Error(), nil
		}
		voters, healthy := etcdmembers.Voters(ms)
		return voters == 3 && healthy == 2, describeMembers(ms), nil
	})
	quorumAt := time.Now()
	quorum := quorumAt.Sub(cutAt)
	framework.WaitT(t, "controller leases renewed after the cut", 2*time.Minute, func(ctx context.Context) (bool, string, error) {
		var s []string
		for _, name := range []string{assets.KubeControllerManager, assets.KubeScheduler} {
			l, err := cs.CoordinationV1().Leases(assets.KubeSystem).Get(ctx, name, metav1.GetOptions{})
			if err != nil || l.Spec.RenewTime == nil || l.Spec.RenewTime.Time.Before(cutAt) {
				return false, fmt.Sprintf("%s not renewed yet (%v)", name, err), nil
			}
			s = append(s, name+" by "+ptrStr(l.Spec.HolderIdentity))
		}
		return true, strings.Join(s, ", "), nil
	})
	leases := time.Since(cutAt)
	time.Sleep(10 * time.Second) // the API serves on: keep polling a while
	res := poller.Stop()
	// Writes fail while etcd elects a leader when the cut node led it
	// ("leader changed"); reads do not. After HAProxy noticed AND etcd has
	// quorum again, nothing may fail.
	after := res.FailedAfter(down)
	afterQuorum := res.FailedAfter(quorumAt)
	if quorumAt.Before(down) {
		afterQuorum = after
	}
	t.Logf("FIGURE ha: power cut of %s: HAProxy marked it down %s after the cut; etcd quorum (2 of 3) confirmed %s, controller leases renewed %s after; through HAProxy: %s%d failed in all, %d sent after the check marked it down, longest gap %s (ended %s after the cut)",
		cut.Name, down.Sub(cutAt).Round(10*time.Millisecond), quorum.Round(100*time.Millisecond), leases.Round(100*time.Millisecond),
		res, res.Failed(), after, res.LongestGap().Round(time.Millisecond), gapEnd(res).Sub(cutAt).Round(100*time.Millisecond))
	t.Logf("FIGURE ha: failed requests sent after HAProxy marked %s down: %d (reads %d); after etcd's quorum was confirmed too: %d", cut.Name, after, framework.TrafficResult{"read": res["read"]}.FailedAfter(down), afterQuorum)
	if afterQuorum > 0 || (framework.TrafficResult{"read": res["read"]}).FailedAfter(down) > 0 {
		t.Errorf("requests failed after HAProxy marked %s down and etcd had quorum (want 0): %s", cut.Name, res)
	}
	if g := res.LongestGap(); g > 5*time.Second {
		t.Errorf("the API through HAProxy was unavailable for %s during the power cut of %s (want ≤ 5s)", g.Round(time.Millisecond), cut.Name)
	}
	if now := podsOn(t, cs, "default", otherNames); fmt.Sprint(now) != fmt.Sprint(before) {
		t.Errorf("workloads on the other nodes changed during the power cut:\nbefore %v\nafter  %v", before, now)
	}

	// Power on: the node comes back by itself (its etcd member with its
	// data, its kube-apiserver from the DaemonSet through the other
	// nodes' API), and nothing a client sees fails meanwhile.
	poller = framework.PollTraffic(t, cs, "")
	on := cut.PowerOn(t, assetDir)
	waitVoters(t, assetDir, 3, nodes[:3]...)
	etcdBack := time.Since(on)
	framework.WaitT(t, "kube-apiserver on "+cut.Name+" Ready again", 5*time.Minute, func(ctx context.Context) (bool, string, error) {
		pods, err := cs.CoreV1().Pods(assets.KubeSystem).List(ctx, metav1.ListOptions{LabelSelector: "component=" + assets.KubeAPIServer, FieldSelector: "spec.nodeName=" + cut.Name})
		if err != nil || len(pods.Items) != 1 {
			return false, fmt.Sprintf("%d pods (%v)", len(pods.Items), err), nil
		}
		p := &pods.Items[0]
		return ready(p) && startedAfterT(p, on), framework.PodSummary(p), nil
	})
	apiserverBack := time.Since(on)
	up := lb.WaitServer(t, cut.Name, true, on, 2*time.Minute)
	res = poller.Finish(t, "the return of "+cut.Name)
	t.Logf("FIGURE ha: power on of %s: etcd 3 of 3 %s, its kube-apiserver Ready %s, HAProxy marked it up %s after the kubelet's start; through HAProxy %s",
		cut.Name, etcdBack.Round(100*time.Millisecond), apiserverBack.Round(100*time.Millisecond), up.Sub(on).Round(100*time.Millisecond), res)
	checkGuardDidNotRecover(t, cut)
}

// checkGuardDidNotRecover: with two other control-plane nodes serving, the
// guard of the powered-on node waited for its DaemonSet pod instead of
// starting a temporary apiserver beside them.
func checkGuardDidNotRecover(t *testing.T, n *framework.Node) {
	t.Helper()
	var guardLog []string
	_ = filepath.Walk(n.PodLogsDir(), func(p string, fi os.FileInfo, err error) error {
		if err == nil && !fi.IsDir() && strings.Contains(p, "guard") {
			data, _ := os.ReadFile(p)
			guardLog = append(guardLog, string(data))
		}
		return nil
	})
	all := strings.Join(guardLog, "\n")
	if strings.Contains(all, "Recovering the control plane") {
		t.Errorf("the guard of %s started a recovery although the other control-plane nodes served:\n%s", n.Name, lastLines(all, 20))
	}
	t.Logf("guard of %s: %s", n.Name, lastLines(all, 4))
}

// leaveAndRejoin: leave of c (node 3) leaves a healthy 2-member etcd, the
// leave of b (node 2) is then refused (1 of 2), and c joins again.
func leaveAndRejoin(t *testing.T, cs kubernetes.Interface, assetDir string, tok tokenCreated, a, b, c *framework.Node) {
	t.Helper()
	poller := framework.PollTraffic(t, cs, "")
	begin := time.Now()
	if out, code := leaveOn(t, c); code != 0 {
		t.Fatalf("bootstrap leave on %s: exit %d\n%s", c.Name, code, out)
	}
	took := time.Since(begin)
	waitVoters(t, assetDir, 2, a, b)
	framework.WaitT(t, "kube-apiserver DaemonSet on 2 nodes", 3*time.Minute, func(ctx context.Context) (bool, string, error) {
		ds, err := cs.AppsV1().DaemonSets(assets.KubeSystem).Get(ctx, assets.KubeAPIServer, metav1.GetOptions{})
		if err != nil {
			return false, "", err
		}
		return ds.Status.DesiredNumberScheduled == 2 && ds.Status.NumberReady == 2, fmt.Sprintf("%d/%d", ds.Status.NumberReady, ds.Status.DesiredNumberScheduled), nil
	})
	res := poller.Stop()
	t.Logf("FIGURE ha: leave of %s in %s; through HAProxy during it: %s", c.Name, took.Round(100*time.Millisecond), res)
	for kind, r := range res {
		if r.Failed > 0 || r.LongestGap > time.Second {
			t.Logf("leave of %s (began %s): %s longest gap ended %s; first error: %s", c.Name, begin.UTC().Format("15:04:05.000"),
				kind, r.GapEnd.UTC().Format("15:04:05.000"), r.FirstErr)
		}
	}
	if g := res.LongestGap(); g > 5*time.Second {
		t.Errorf("the API through HAProxy was unavailable for %s during the leave of %s", g.Round(time.Millisecond), c.Name)
	}
	if left := framework.FilesUnder(filepath.Join(c.Work, "pki", "etcd")); strings.Contains(left, "server.key") || strings.Contains(left, "peer.key") {
		t.Errorf("leave kept the member's keys: %s", left)
	}

	out, code := leaveOn(t, b)
	if code != 2 || !strings.Contains(out, "leaves 1 of 2 etcd members") {
		t.Errorf("leave of %s with 2 members: exit %d, want 2 (1 of 2 refused):\n%s", b.Name, code, out)
	}
	waitVoters(t, assetDir, 2, a, b)

	took = joinControlPlane(t, c, assetDir, tok)
	waitVoters(t, assetDir, 3, a, b, c)
	waitDaemonSetOnNodes(t, cs, assets.KubeSystem, assets.KubeAPIServer, 3)
	t.Logf("FIGURE ha: re-join --control-plane of %s after leave %s", c.Name, took.Round(100*time.Millisecond))
}

// leaveOn runs bootstrap leave on the node with its own paths.
func leaveOn(t *testing.T, n *framework.Node) (string, int) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
	defer cancel()
	out, err := n.Exec(ctx, framework.BootstrapBinary(t), "leave", "--asset-dir", filepath.Join(n.Work, "assets"),
		"--advertise-address", n.IP, "--node-name", n.Name, "--static-pod-path", n.StaticPodPath,
		"--etcd-data-dir", filepath.Join(n.Work, "etcd"), "--etcd-cert-dir", filepath.Join(n.Work, "pki", "etcd"))
	t.Logf("bootstrap leave on %s (%v):\n%s", n.Name, err, out)
	return out, exitCode(err)
}

// writeHealthCheckCert writes a PEM file with a client certificate of the
// cluster CA (CN lb-health-check, no group) and its key, for HAProxy.
func writeHealthCheckCert(t *testing.T, assetDir, path string) {
	t.Helper()
	cas, err := certutil.CertsFromFile(assets.Path(assetDir, assets.CACert))
	if err != nil {
		t.Fatal(err)
	}
	caKey, err := keyutil.PrivateKeyFromFile(assets.Path(assetDir, assets.CAKey))
	if err != nil {
		t.Fatal(err)
	}
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(time.Now().UnixNano()), Subject: pkix.Name{CommonName: "lb-health-check"},
		NotBefore: time.Now().Add(-time.Minute), NotAfter: time.Now().Add(24 * time.Hour),
		KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, cas[0], key.Public(), caKey.(crypto.Signer))
	if err != nil {
		t.Fatal(err)
	}
	keyPEM, err := keyutil.MarshalPrivateKeyToPEM(key)
	if err != nil {
		t.Fatal(err)
	}
	data := append(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), keyPEM...)
	if err := os.WriteFile(path, data, 0o600); err != nil {
		t.Fatal(err)
	}
}

// startedAfterT: every container of p runs, started after t.
func startedAfterT(p *corev1.Pod, t time.Time) bool {
	for _, c := range p.Status.ContainerStatuses {
		if c.State.Running == nil || c.State.Running.StartedAt.Time.Before(t.Truncate(time.Second)) {
			return false
		}
	}
	return len(p.Status.ContainerStatuses) > 0
}

func gapEnd(r framework.TrafficResult) time.Time {
	var end time.Time
	var longest time.Duration
	for _, c := range r {
		if c.LongestGap > longest {
			longest, end = c.LongestGap, c.GapEnd
		}
	}
	return end
}

func lastLines(s string, n int) string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}
