package certs

import (
	"context"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/clientcmd"

	"github.com/bootstrap-k8s/bootstrap/internal/testcontrolplane"
	"github.com/bootstrap-k8s/bootstrap/internal/testtree"
	"github.com/bootstrap-k8s/bootstrap/pkg/assets"
	"github.com/bootstrap-k8s/bootstrap/pkg/failure"
	"github.com/bootstrap-k8s/bootstrap/pkg/ui"
)

func quiet() *ui.Printer { return ui.New(io.Discard, io.Discard, 0) }

func find(l *Listing, name, source string) *Cert {
	for i := range l.Certs {
		if l.Certs[i].Name == name && l.Certs[i].Source == source {
			return &l.Certs[i]
		}
	}
	return nil
}

// TestListAgainstARealAPIServer: the asset dir's CAs and leaves, and what
// the running apiserver presents to a TLS client, with the same serial as
// the asset dir's (it serves the asset dir's certificate).
func TestListAgainstARealAPIServer(t *testing.T) {
	cp := testcontrolplane.Start(t)
	l, err := List(context.Background(), Options{AssetDir: cp.AssetDir, Config: cp.Config, KubeletDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"ca", "etcd-ca", "front-proxy-ca", "apiserver", "etcd-server", "admin.kubeconfig", "scheduler.kubeconfig"} {
		c := find(l, name, SourceAssetDir)
		if c == nil || c.Error != "" || c.NotAfter.IsZero() || c.Renewal == "" {
			t.Errorf("%s in the asset dir: %+v", name, c)
		}
	}
	if c := find(l, "ca", SourceAssetDir); c == nil || !c.CA || !strings.Contains(c.Renewal, "by hand") {
		t.Errorf("CA entry: %+v", c)
	}
	// 1-year leaves are not flagged under the 30-day default.
	if c := find(l, "apiserver", SourceAssetDir); c == nil || c.Warning != "" {
		t.Errorf("apiserver: %+v", c)
	}
	if len(l.Skipped) == 0 {
		t.Error("the kubelet's missing files are not reported as skipped")
	}
}

// TestRenewRefusals: unknown names, a missing CA key, an asset dir of
// another cluster and a cluster that is not healthy are refused with the
// right kind, and nothing in the asset dir changes.
func TestRenewRefusals(t *testing.T) {
	cp := testcontrolplane.Start(t)
	o := Options{AssetDir: cp.AssetDir, Config: cp.Config, KubeletDir: t.TempDir()}
	before := testtree.Snapshot(t, cp.AssetDir)
	ctx := context.Background()

	_, err := Renew(ctx, RenewOptions{Options: o, Names: []string{"apiserver", "nope"}}, quiet())
	if failure.KindOf(err) != failure.KindInvalidConfig || !strings.Contains(err.Error(), `unknown certificate "nope"`) {
		t.Errorf("unknown name: %v", err)
	}
	if _, err := Renew(ctx, RenewOptions{Options: o, Names: []string{"ca"}}, quiet()); err == nil || !strings.Contains(err.Error(), "CA rotation") {
		t.Errorf("renew ca: %v", err)
	}
	if _, err := Renew(ctx, RenewOptions{Options: o}, quiet()); failure.KindOf(err) != failure.KindInvalidConfig {
		t.Errorf("no names: %v", err)
	}
	// Not healthy: the temporary control plane runs no controllers.
	_, err = Renew(ctx, RenewOptions{Options: o, Names: []string{"all"}}, quiet())
	if !failure.IsPreflight(err) || !strings.Contains(err.Error(), "is Unhealthy") && !strings.Contains(err.Error(), "is Degraded") {
		t.Errorf("unhealthy cluster: %v", err)
	}
	if ch := before.Changes(t, cp.AssetDir); len(ch) > 0 {
		t.Errorf("a refused renewal changed the asset dir: %v", ch)
	}

	// Another cluster: same configuration, other CAs, the same address.
	other := filepath.Join(t.TempDir(), "other")
	if _, err := assets.Render(cp.Config, other, assets.Options{}); err != nil {
		t.Fatal(err)
	}
	otherBefore := testtree.Snapshot(t, other)
	_, err = Renew(ctx, RenewOptions{Options: Options{AssetDir: other, Config: cp.Config}, Names: []string{"all"}, Force: true}, quiet())
	if !failure.IsPreflight(err) || !strings.Contains(err.Error(), "another cluster") {
		t.Errorf("asset dir of another cluster: %v", err)
	}
	if ch := otherBefore.Changes(t, other); len(ch) > 0 {
		t.Errorf("the refused asset dir changed: %v", ch)
	}

	// A CA key kept off the node.
	if err := os.Rename(assets.Path(other, assets.CAKey), assets.Path(other, "tls/ca.key.offline")); err != nil {
		t.Fatal(err)
	}
	_, err = Renew(ctx, RenewOptions{Options: Options{AssetDir: other, Config: cp.Config}, Names: []string{"apiserver"}}, quiet())
	if !failure.IsPreflight(err) || !strings.Contains(err.Error(), "tls/ca.key is not in the asset dir") {
		t.Errorf("missing CA key: %v", err)
	}
}

// TestRenewAdminKubeconfig: with --force on the (controller-less)
// temporary control plane, renewing admin.kubeconfig re-issues its client
// certificate only, and the new one authenticates against the running
// apiserver.
func TestRenewAdminKubeconfig(t *testing.T) {
	cp := testcontrolplane.Start(t)
	o := Options{AssetDir: cp.AssetDir, Config: cp.Config, KubeletDir: t.TempDir()}
	before, err := List(context.Background(), o)
	if err != nil {
		t.Fatal(err)
	}
	res, err := Renew(context.Background(), RenewOptions{Options: o, Names: []string{"admin.kubeconfig"}, Force: true}, quiet())
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Renewed) != 1 || res.Renewed[0].Name != "admin.kubeconfig" || res.Renewed[0].NewSerial == res.Renewed[0].OldSerial {
		t.Fatalf("renewed: %+v", res.Renewed)
	}
	after, err := List(context.Background(), o)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range after.Certs {
		if c.Source != SourceAssetDir {
			continue
		}
		old := find(before, c.Name, c.Source)
		if changed := old.Serial != c.Serial; changed != (c.Name == "admin.kubeconfig") {
			t.Errorf("%s: serial %s -> %s", c.Name, old.Serial, c.Serial)
		}
	}
	rc, err := clientcmd.BuildConfigFromFlags("", assets.Path(cp.AssetDir, assets.AdminKubeconfig))
	if err != nil {
		t.Fatal(err)
	}
	cs, err := kubernetes.NewForConfig(rc)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := cs.CoreV1().Namespaces().Get(context.Background(), "kube-system", metav1.GetOptions{}); err != nil {
		t.Errorf("the renewed admin kubeconfig does not work: %v", err)
	}
}

// TestKubeletRotationNote: /configz without rotateCertificates is a warning.
func TestKubeletRotationNote(t *testing.T) {
	if n := KubeletRotationNote("n1", []byte(`{"kubeletconfig":{"rotateCertificates":true,"serverTLSBootstrap":true}}`)); !strings.Contains(n, "renews its own client certificate") || !strings.Contains(n, "serving") {
		t.Errorf("rotating kubelet: %s", n)
	}
	if n := KubeletRotationNote("n1", []byte(`{"kubeletconfig":{"rotateCertificates":false}}`)); !strings.HasPrefix(n, "Warning:") {
		t.Errorf("non-rotating kubelet: %s", n)
	}
}
