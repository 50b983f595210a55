package tempcontrolplane

import (
	"context"
	"net"
	"path/filepath"
	"testing"
	"time"

	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"

	"github.com/bootstrap-k8s/bootstrap/pkg/apis/bootstrap/v1alpha1"
	"github.com/bootstrap-k8s/bootstrap/pkg/assets"
)

// freePort asks the kernel for a free port on 127.0.0.1.
func freePort(t testing.TB) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// renderAssets renders a real asset dir for a single node on 127.0.0.1.
func renderAssets(t testing.TB) (string, *v1alpha1.BootstrapConfiguration) {
	t.Helper()
	cfg := &v1alpha1.BootstrapConfiguration{}
	cfg.APIServer.AdvertiseAddress = "127.0.0.1"
	cfg.Node.Name = "node1"
	v1alpha1.SetDefaults(cfg)
	dir := filepath.Join(t.TempDir(), "assets")
	if _, err := assets.Render(cfg, dir, assets.Options{}); err != nil {
		t.Fatalf("render: %v", err)
	}
	return dir, cfg
}

// testConfig builds a Config on random free ports for an asset dir.
func testConfig(t testing.TB, assetDir string) Config {
	t.Helper()
	return Config{
		AssetDir:          assetDir,
		BindAddress:       "127.0.0.1",
		BindPort:          freePort(t),
		EtcdName:          "node1",
		EtcdDataDir:       filepath.Join(t.TempDir(), "etcd"),
		EtcdClientPort:    freePort(t),
		EtcdPeerPort:      freePort(t),
		KubernetesVersion: "v1.37.2",
		ServiceCIDR:       "10.96.0.0/12",
		ReadyTimeout:      60 * time.Second,
	}
}

type testCP struct {
	*ControlPlane
	cfg      Config
	assetDir string
	cs       kubernetes.Interface
	admin    *rest.Config
}

// startTestCP renders assets and starts a control plane that stops with the test.
func startTestCP(t testing.TB) *testCP {
	t.Helper()
	dir, _ := renderAssets(t)
	cfg := testConfig(t, dir)
	cp, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	if err := cp.Start(ctx); err != nil {
		t.Fatalf("start: %v", err)
	}
	t.Cleanup(func() {
		if err := cp.Stop(); err != nil {
			t.Errorf("stop: %v", err)
		}
	})
	admin := cp.AdminConfig()
	cs, err := kubernetes.NewForConfig(admin)
	if err != nil {
		t.Fatal(err)
	}
	return &testCP{ControlPlane: cp, cfg: cfg, assetDir: dir, cs: cs, admin: admin}
}
