package start

import (
	"context"
	"errors"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/bootstrap-k8s/bootstrap/internal/testcontrolplane"
	"github.com/bootstrap-k8s/bootstrap/pkg/assets"
	"github.com/bootstrap-k8s/bootstrap/pkg/failure"
	"github.com/bootstrap-k8s/bootstrap/pkg/ui"
)

// TestInstallEtcdFiles: the member's certificates (keys 0600) and the static
// pod land on the node; a second install changes nothing.
func TestInstallEtcdFiles(t *testing.T) {
	dir, cfg := testcontrolplane.Render(t)
	for i := 0; i < 2; i++ {
		if err := installEtcdFiles(dir, cfg); err != nil {
			t.Fatal(err)
		}
	}
	for _, rel := range etcdNodeFiles {
		fi, err := os.Stat(filepath.Join(cfg.Etcd.Local.CertDir, filepath.Base(rel)))
		if err != nil {
			t.Fatal(err)
		}
		want := os.FileMode(0o644)
		if strings.HasSuffix(rel, ".key") {
			want = 0o600
		}
		if fi.Mode().Perm() != want {
			t.Errorf("%s: mode %v, want %v", rel, fi.Mode().Perm(), want)
		}
	}
	got, err := os.ReadFile(filepath.Join(cfg.Node.StaticPodPath, "etcd.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	want, _ := os.ReadFile(assets.Path(dir, assets.EtcdStaticPod))
	if string(got) != string(want) {
		t.Errorf("the installed static pod differs from the asset dir's")
	}
	entries, _ := os.ReadDir(cfg.Node.StaticPodPath)
	for _, e := range entries {
		if strings.HasPrefix(e.Name(), ".") {
			t.Errorf("temporary file %s left in the static pod dir", e.Name())
		}
	}
}

// TestPreflightOnARenderedAssetDir runs start's real checks: a clean node
// passes (the kubelet only warns), and each problem is named, refused with
// a preflight failure, and can be ignored by name.
func TestPreflightOnARenderedAssetDir(t *testing.T) {
	defer func(f func() int) { geteuid = f }(geteuid)
	geteuid = func() int { return 0 }
	dir, cfg := testcontrolplane.Render(t)
	if err := os.MkdirAll(cfg.Node.StaticPodPath, 0o755); err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	run := func(ignore ...string) (error, string) {
		var out strings.Builder
		err := runPreflight(ctx, ui.New(&out, &out, 1), preflightFor(Options{AssetDir: dir}, cfg, false), ignore)
		return err, out.String()
	}
	if err, out := run(); err != nil {
		t.Fatalf("clean node: %v\n%s", err, out)
	}

	// Another process on the API port, another cluster's etcd data.
	l, err := net.Listen("tcp", net.JoinHostPort(cfg.APIServer.AdvertiseAddress, strconv.Itoa(int(cfg.APIServer.BindPort))))
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	if err := os.MkdirAll(filepath.Join(cfg.Etcd.Local.DataDir, "member"), 0o700); err != nil {
		t.Fatal(err)
	}
	err, out := run()
	if !failure.IsPreflight(err) || !strings.Contains(err.Error(), "(APIServerPort, EtcdDataDir)") {
		t.Fatalf("err = %v, want APIServerPort and EtcdDataDir named\n%s", err, out)
	}
	for _, want := range []string{"ERROR APIServerPort: " + l.Addr().String() + " is in use by another process (apiServer.bindPort)",
		"ERROR EtcdDataDir: etcd data dir " + cfg.Etcd.Local.DataDir + " is not empty"} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
	if err, out := run("APIServerPort", "etcddatadir"); err != nil {
		t.Errorf("both ignored: %v\n%s", err, out)
	}
	// Once this cluster's etcd static pod is installed, its data and ports
	// are this cluster's: start converges instead of refusing.
	if err := installEtcdFiles(dir, cfg); err != nil {
		t.Fatal(err)
	}
	if err, out := run("APIServerPort"); err != nil {
		t.Errorf("with the etcd static pod installed: %v\n%s", err, out)
	}

	// The CA key may stay off the node: start signs nothing.
	os.Remove(assets.Path(dir, assets.CAKey))
	if err := CheckAssetDir(dir); err != nil {
		t.Errorf("CheckAssetDir without %s = %v; want nil (start signs nothing)", assets.CAKey, err)
	}
	// A partial asset dir names what it lacks and says to render.
	os.Remove(assets.Path(dir, assets.APIServerKey))
	if err := CheckAssetDir(dir); err == nil || !strings.Contains(err.Error(), assets.APIServerKey) || !strings.Contains(err.Error(), "bootstrap render") {
		t.Errorf("CheckAssetDir = %v", err)
	}
}

// TestCreateMissingKeepsTheClusterDefinitions: in a recovery mode the asset
// dir only fills in what the saved state lacks; what the cluster changed
// since render stays.
func TestCreateMissingKeepsTheClusterDefinitions(t *testing.T) {
	cp := testcontrolplane.Start(t)
	ctx := context.Background()
	f, out := testFlow(t, cp, Options{})
	if err := f.apply(ctx); err != nil {
		t.Fatal(err)
	}
	cms := cp.Client.CoreV1().ConfigMaps(assets.KubeSystem)
	list, err := cms.List(ctx, metav1.ListOptions{})
	if err != nil || len(list.Items) == 0 {
		t.Fatalf("no ConfigMaps applied (%v)", err)
	}
	changed := list.Items[0].DeepCopy()
	changed.Data = map[string]string{"changed": "by the operator"}
	if _, err := cms.Update(ctx, changed, metav1.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}
	deleted := list.Items[len(list.Items)-1].Name
	if deleted == changed.Name {
		deleted = ""
	} else if err := cms.Delete(ctx, deleted, metav1.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}

	r, _ := testFlow(t, cp, Options{Mode: RunningEtcd, Recovery: Recovery{EtcdEndpoints: []string{"https://127.0.0.1:1"}}})
	out.Reset()
	if err := r.apply(ctx); err != nil {
		t.Fatal(err)
	}
	got, err := cms.Get(ctx, changed.Name, metav1.GetOptions{})
	if err != nil || got.Data["changed"] != "by the operator" {
		t.Errorf("the cluster's ConfigMap %s was replaced: %v %v", changed.Name, got.Data, err)
	}
	if deleted != "" {
		if _, err := cms.Get(ctx, deleted, metav1.GetOptions{}); err != nil {
			t.Errorf("the missing ConfigMap %s was not created: %v", deleted, err)
		}
	}
	// With ReapplyAssets the asset dir wins again.
	re, _ := testFlow(t, cp, Options{Mode: RunningEtcd, Recovery: Recovery{EtcdEndpoints: []string{"https://127.0.0.1:1"}, ReapplyAssets: true}})
	if err := re.apply(ctx); err != nil {
		t.Fatal(err)
	}
	if got, _ := cms.Get(ctx, changed.Name, metav1.GetOptions{}); got.Data["changed"] == "by the operator" && len(got.Data) == 1 {
		t.Errorf("ReapplyAssets kept the cluster's ConfigMap %s unchanged", changed.Name)
	}
}

// TestGuardAndLock: the guard static pod is installed only when asked, and
// the asset dir lock refuses a second holder.
func TestGuardAndLock(t *testing.T) {
	dir, cfg := testcontrolplane.Render(t)
	if err := os.MkdirAll(cfg.Node.StaticPodPath, 0o755); err != nil {
		t.Fatal(err)
	}
	var out strings.Builder
	f := &flow{o: Options{AssetDir: dir}, cfg: cfg, p: ui.New(&out, &out, 0)}
	if why, _ := f.skipGuard(context.Background()); !strings.Contains(why, "not asked for") {
		t.Errorf("skipGuard = %q", why)
	}
	f.o.InstallGuard = true
	if why, _ := f.skipGuard(context.Background()); why != "" {
		t.Errorf("asked for, yet skipped: %q", why)
	}
	if err := f.installGuard(context.Background()); err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(filepath.Join(cfg.Node.StaticPodPath, assets.GuardStaticPodFile))
	if err != nil || !strings.Contains(string(data), "kind: Pod") || !strings.Contains(string(data), assets.GuardPodName) {
		t.Fatalf("guard static pod (%v):\n%s", err, data)
	}
	release, err := lockAssetDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := lockAssetDir(dir); !errors.Is(err, ErrBusy) {
		t.Errorf("second lock: %v, want ErrBusy", err)
	}
	release()
	release2, err := lockAssetDir(dir)
	if err != nil {
		t.Fatalf("lock after release: %v", err)
	}
	release2()
}
