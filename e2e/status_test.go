//go:build e2e

package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/clientcmd"
	certutil "k8s.io/client-go/util/cert"

	"github.com/bootstrap-k8s/bootstrap/e2e/framework"
	"github.com/bootstrap-k8s/bootstrap/internal/testtree"
	"github.com/bootstrap-k8s/bootstrap/pkg/assets"
	"github.com/bootstrap-k8s/bootstrap/pkg/certs"
	"github.com/bootstrap-k8s/bootstrap/pkg/status"
	"github.com/bootstrap-k8s/bootstrap/pkg/tlsprobe"
)

// TestStatusAndCerts: one cluster, rendered with 24 h leaf certificates,
// for every day-2 check, the destructive ones last: status reads Healthy;
// check-expiration lists the asset dir's, the Secrets', the node's and the
// served certificates; the kubelet's client certificate rotates by itself;
// renew refuses an unknown name and an asset dir of another cluster
// (nothing changed); renew all serves the new certificates with no failed
// request from a 50 ms poller; without the scheduler Deployment status
// reads Degraded naming it; without kube-apiserver (guard removed, its
// DaemonSet deleted) status reads Unhealthy and still reports etcd.
func TestStatusAndCerts(t *testing.T) {
	node := framework.StartNode(t, framework.NodeOptions{})
	assetDir := node.Render(t, "--certificate-validity", "24h")
	node.StartKubelet(t, assetDir)
	if _, err := runStart(t, node, assetDir, 10*time.Minute); err != nil {
		t.Fatalf("bootstrap start: %v", err)
	}
	kubeconfig := assets.Path(assetDir, assets.AdminKubeconfig)
	cs := framework.MustClient(t, kubeconfig)
	waitKubeSystemReady(t, cs)
	kubeletDir := filepath.Join(node.Work, "kubelet")
	apiAddr := node.IP + ":6443"
	coreDNSMissing := !framework.HasImage(framework.CoreDNSImage)

	t.Run("healthy", func(t *testing.T) {
		rep := waitStatus(t, node, assetDir, 2*time.Minute, func(rep *status.Report, code int) bool {
			return code == 0 || (coreDNSMissing && code == 1 && onlyNotHealthy(rep, status.CompCoreDNS))
		})
		etcd := findRow(t, rep, status.CompEtcd, node.Name)
		if etcd.State != status.Healthy || !strings.Contains(etcd.Detail, "leader") || etcd.CertNotAfter == nil {
			t.Errorf("etcd row: %+v", etcd)
		}
		api := findRow(t, rep, status.CompAPIServer, node.Name)
		if api.State != status.Healthy || api.Version == "" || api.CertNotAfter == nil || time.Until(*api.CertNotAfter) > 25*time.Hour {
			t.Errorf("kube-apiserver row (24 h certificates): %+v", api)
		}
		if k := findRow(t, rep, status.CompKubelet, node.Name); k.Version == "" {
			t.Errorf("kubelet row: %+v", k)
		}
		findRow(t, rep, status.CompGuard, node.Name)
	})

	var before *certs.Listing
	t.Run("check-expiration", func(t *testing.T) {
		before = checkExpiration(t, node, assetDir, kubeletDir)
		for _, want := range [][2]string{{"apiserver", certs.SourceAssetDir}, {"apiserver", certs.SourceSecret}, {"apiserver", certs.SourceServed},
			{"etcd-server", certs.SourceNode}, {"etcd-server", certs.SourceServed}, {"scheduler.kubeconfig", certs.SourceSecret},
			{"kubelet-client", certs.SourceNode}, {"ca", certs.SourceAssetDir}} {
			c := findCert(t, before, want[0], want[1])
			if c.Error != "" || c.NotAfter.IsZero() {
				t.Errorf("%s from %s: %+v", want[0], want[1], c)
			}
			if strings.Contains(c.Warning, "differs") || strings.Contains(c.Warning, "another cluster") {
				t.Errorf("%s from %s: %s", want[0], want[1], c.Warning)
			}
		}
		if c := findCert(t, before, "apiserver", certs.SourceServed); !strings.Contains(c.Warning, "expires in") {
			t.Errorf("a 24 h certificate is not flagged under the 30 d threshold: %+v", c)
		}
	})

	t.Run("kubelet client certificate rotates by itself", func(t *testing.T) {
		initial := leafSerial(t, mustKubeconfigCert(t, assets.Path(assetDir, assets.KubeletKubeconfig)))
		pem := filepath.Join(kubeletDir, "pki", "kubelet-client-current.pem")
		framework.WaitT(t, "the kubelet to replace its rendered client certificate", 3*time.Minute, func(context.Context) (bool, string, error) {
			data, err := os.ReadFile(pem)
			if err != nil {
				return false, "", err
			}
			crts, err := certutil.ParseCertsPEM(data)
			if err != nil {
				return false, "", err
			}
			s := leafSerial(t, data)
			return s != initial && time.Until(crts[0].NotAfter) > 48*time.Hour,
				fmt.Sprintf("serial %s (rendered %s), notAfter %s", s, initial, crts[0].NotAfter.Format(time.RFC3339)), nil
		})
	})

	t.Run("renew refuses, changing nothing", func(t *testing.T) {
		before := testtree.Snapshot(t, assetDir)
		rv := secretVersion(t, cs)
		out, code := runBootstrap(t, node, "certs", "renew", "apiserverr", "--asset-dir", assetDir)
		if code != 3 || !strings.Contains(out, `unknown certificate "apiserverr"`) {
			t.Errorf("unknown name: exit %d: %s", code, out)
		}
		other := filepath.Join(node.Work, "other-cluster")
		if b, err := exec.Command(framework.BootstrapBinary(t), "render", "--config", filepath.Join(node.Work, "cluster.yaml"), "--asset-dir", other).CombinedOutput(); err != nil {
			t.Fatalf("render another cluster: %v\n%s", err, b)
		}
		otherBefore := testtree.Snapshot(t, other)
		out, code = runBootstrap(t, node, "certs", "renew", "all", "--asset-dir", other, "--force")
		if code != 2 || !strings.Contains(out, "another cluster") {
			t.Errorf("asset dir of another cluster: exit %d: %s", code, out)
		}
		if ch := append(before.Changes(t, assetDir), otherBefore.Changes(t, other)...); len(ch) > 0 || secretVersion(t, cs) != rv {
			t.Errorf("a refused renewal changed an asset dir (%v) or the kube-apiserver Secret", ch)
		}
	})

	t.Run("renew all without a failed request", func(t *testing.T) {
		oldAPI := findCert(t, before, "apiserver", certs.SourceServed)
		poller := framework.PollHandover(cs)
		begin := time.Now()
		out, code := runBootstrap(t, node, "certs", "renew", "all", "--asset-dir", assetDir, "--kubelet-dir", kubeletDir, "-v", "1")
		took := time.Since(begin)
		res := poller.Finish(t)
		t.Logf("certs renew all: exit %d in %s; poller %d requests, %d failed\n%s", code, took.Round(100*time.Millisecond), res.Requests, res.Failed, out)
		if code != 0 {
			t.Fatalf("certs renew all: exit %d", code)
		}
		for _, c := range []struct{ name, file, addr string }{{"apiserver", assets.APIServerCert, apiAddr}, {"etcd-server", assets.EtcdServerCert, node.IP + ":2379"}} {
			data, err := os.ReadFile(assets.Path(assetDir, c.file))
			if err != nil {
				t.Fatal(err)
			}
			want := leafSerial(t, data)
			crt, err := tlsprobe.Served(context.Background(), c.addr, nil, 5*time.Second)
			if err != nil {
				t.Fatal(err)
			}
			got := crt.SerialNumber.Text(16)
			t.Logf("%s: %s now serves serial %s until %s", c.name, c.addr, got, crt.NotAfter.Format(time.RFC3339))
			if got != want {
				t.Errorf("%s serves serial %s, want the renewed %s", c.addr, got, want)
			}
		}
		if crt, err := tlsprobe.Served(context.Background(), apiAddr, nil, 5*time.Second); err == nil &&
			(crt.SerialNumber.Text(16) == oldAPI.Serial || !crt.NotAfter.After(oldAPI.NotAfter)) {
			t.Errorf("the served apiserver certificate (serial %s, notAfter %s) is not newer than before (%s, %s)", crt.SerialNumber.Text(16), crt.NotAfter, oldAPI.Serial, oldAPI.NotAfter)
		}
		after := checkExpiration(t, node, assetDir, kubeletDir)
		for _, c := range after.Certs {
			if strings.Contains(c.Warning, "differs") {
				t.Errorf("after renew: %s (%s %s): %s", c.Name, c.Source, c.Location, c.Warning)
			}
		}
		if !strings.Contains(out, "renews its own client certificate (rotateCertificates: true)") {
			t.Error("renew did not confirm the kubelet's rotateCertificates")
		}
		waitStatus(t, node, assetDir, 2*time.Minute, func(rep *status.Report, code int) bool {
			return code == 0 || (coreDNSMissing && code == 1 && onlyNotHealthy(rep, status.CompCoreDNS))
		})
	})

	t.Run("scheduler Deployment deleted: Degraded", func(t *testing.T) {
		if err := cs.AppsV1().Deployments(assets.KubeSystem).Delete(context.Background(), assets.KubeScheduler, metav1.DeleteOptions{}); err != nil {
			t.Fatal(err)
		}
		rep, code := runStatus(t, node, assetDir)
		if code != 1 || rep.Overall != status.Degraded || !strings.Contains(rep.Reason, assets.KubeScheduler) {
			t.Errorf("without the scheduler Deployment: exit %d, %s: %s", code, rep.Overall, rep.Reason)
		}
	})

	t.Run("kube-apiserver down: Unhealthy, etcd still reported", func(t *testing.T) {
		// The guard would bring kube-apiserver back within seconds: remove it first.
		if err := os.Remove(filepath.Join(node.StaticPodPath, assets.GuardStaticPodFile)); err != nil {
			t.Fatal(err)
		}
		time.Sleep(5 * time.Second)
		if err := cs.AppsV1().DaemonSets(assets.KubeSystem).Delete(context.Background(), assets.KubeAPIServer, metav1.DeleteOptions{}); err != nil {
			t.Fatal(err)
		}
		framework.WaitT(t, "kube-apiserver to stop serving", 3*time.Minute, func(context.Context) (bool, string, error) {
			_, err := tlsprobe.Served(context.Background(), apiAddr, nil, 2*time.Second)
			return err != nil, "still serving", nil
		})
		begin := time.Now()
		rep, code := runStatus(t, node, assetDir)
		t.Logf("status with kube-apiserver down took %s", time.Since(begin).Round(100*time.Millisecond))
		if code != 2 || rep.Overall != status.Unhealthy || rep.APIReachable {
			t.Errorf("kube-apiserver down: exit %d, %s (API reachable %v): %s", code, rep.Overall, rep.APIReachable, rep.Reason)
		}
		if e := findRow(t, rep, status.CompEtcd, node.Name); e.State != status.Healthy {
			t.Errorf("etcd row with kube-apiserver down: %+v", e)
		}
		if k := findRow(t, rep, status.CompKubelet, node.Name); k.State != status.Healthy {
			t.Errorf("kubelet row (healthz) with kube-apiserver down: %+v", k)
		}
		findRow(t, rep, status.CompStaticPods, node.Name)
	})
}

// runBootstrap runs the bootstrap binary in the node's netns and returns its
// combined output and exit code.
func runBootstrap(t *testing.T, node *framework.Node, args ...string) (string, int) {
	t.Helper()
	stdout, stderr, code := runBootstrapSplit(t, node, args...)
	return stdout + stderr, code
}

func runBootstrapSplit(t *testing.T, node *framework.Node, args ...string) (string, string, int) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, "nsenter", append([]string{"--net=/run/netns/" + node.Netns, "--", framework.BootstrapBinary(t)}, args...)...)
	var out, errOut bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errOut
	err := cmd.Run()
	code := 0
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatalf("bootstrap %v: %v", args, err)
	}
	return out.String(), errOut.String(), code
}

// runStatus runs `bootstrap status -o json` (24 h certificates: warn below 1 h).
func runStatus(t *testing.T, node *framework.Node, assetDir string) (*status.Report, int) {
	t.Helper()
	stdout, stderr, code := runBootstrapSplit(t, node, "status", "--asset-dir", assetDir, "-o", "json", "--cert-warning", "1h")
	var rep status.Report
	if err := json.Unmarshal([]byte(stdout), &rep); err != nil {
		t.Fatalf("status: exit %d, stdout is not a report (%v): %s\n%s", code, err, stdout, stderr)
	}
	t.Logf("status: exit %d: %s", code, strings.TrimSpace(stderr))
	return &rep, code
}

func waitStatus(t *testing.T, node *framework.Node, assetDir string, timeout time.Duration, ok func(*status.Report, int) bool) *status.Report {
	t.Helper()
	var rep *status.Report
	framework.WaitT(t, "bootstrap status to read Healthy", timeout, func(context.Context) (bool, string, error) {
		r, code := runStatus(t, node, assetDir)
		rep = r
		return ok(r, code), r.Reason, nil
	})
	return rep
}

func onlyNotHealthy(rep *status.Report, comp string) bool {
	for _, r := range rep.Rows {
		if r.State != status.Healthy && r.Component != comp {
			return false
		}
	}
	return true
}

func findRow(t *testing.T, rep *status.Report, comp, node string) status.Row {
	t.Helper()
	for _, r := range rep.Rows {
		if r.Component == comp && (node == "" || r.Node == node) {
			return r
		}
	}
	t.Fatalf("status has no %s row for node %q: %+v", comp, node, rep.Rows)
	return status.Row{}
}

func checkExpiration(t *testing.T, node *framework.Node, assetDir, kubeletDir string) *certs.Listing {
	t.Helper()
	stdout, stderr, code := runBootstrapSplit(t, node, "certs", "check-expiration", "--asset-dir", assetDir, "--kubelet-dir", kubeletDir, "-o", "json")
	if code != 0 {
		t.Fatalf("check-expiration: exit %d: %s", code, stderr)
	}
	var l certs.Listing
	if err := json.Unmarshal([]byte(stdout), &l); err != nil {
		t.Fatalf("check-expiration: %v: %s", err, stdout)
	}
	t.Logf("check-expiration: %d certificates; skipped %v", len(l.Certs), l.Skipped)
	return &l
}

func findCert(t *testing.T, l *certs.Listing, name, source string) certs.Cert {
	t.Helper()
	for _, c := range l.Certs {
		if c.Name == name && c.Source == source {
			return c
		}
	}
	t.Fatalf("check-expiration lists no %s from %s", name, source)
	return certs.Cert{}
}

func leafSerial(t *testing.T, pemData []byte) string {
	t.Helper()
	crts, err := certutil.ParseCertsPEM(pemData)
	if err != nil {
		t.Fatal(err)
	}
	return crts[0].SerialNumber.Text(16)
}

func mustKubeconfigCert(t *testing.T, path string) []byte {
	t.Helper()
	cfg, err := clientcmd.LoadFromFile(path)
	if err != nil {
		t.Fatal(err)
	}
	for _, a := range cfg.AuthInfos {
		if len(a.ClientCertificateData) > 0 {
			return a.ClientCertificateData
		}
	}
	t.Fatalf("%s has no client certificate", path)
	return nil
}

func secretVersion(t *testing.T, cs kubernetes.Interface) string {
	t.Helper()
	s, err := cs.CoreV1().Secrets(assets.KubeSystem).Get(context.Background(), assets.KubeAPIServer, metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	return s.ResourceVersion
}
