// Package testcontrolplane starts bootstrap's temporary control plane
// in-process (a real apiserver on a real embedded etcd member) on a freshly
// rendered asset dir, for tests of code that talks to an apiserver. The
// asset dir is rendered for 127.0.0.1 on free ports, with every node path
// (static pods, etcd data and certificates) in the test's temporary dir, so
// it is exactly what `bootstrap start` would use, minus root.
//
//	cp := testcontrolplane.Start(t)       // stops at test cleanup
//	cp.Client.CoreV1().Nodes().Create(...)
//	cp.AssetDir, cp.Config                // the rendered asset dir and its configuration
package testcontrolplane

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"

	"github.com/bootstrap-k8s/bootstrap/internal/testetcd"
	"github.com/bootstrap-k8s/bootstrap/pkg/apis/bootstrap/v1alpha1"
	"github.com/bootstrap-k8s/bootstrap/pkg/assets"
	"github.com/bootstrap-k8s/bootstrap/pkg/tempcontrolplane"
)

// NodeName is the node the asset dir is rendered for.
const NodeName = "node1"

// ControlPlane is a started temporary control plane and its asset dir.
type ControlPlane struct {
	*tempcontrolplane.ControlPlane
	AssetDir string
	Config   *v1alpha1.BootstrapConfiguration
	Admin    *rest.Config
	Client   kubernetes.Interface
}

// Render renders an asset dir for one node on 127.0.0.1 with free ports and
// node paths under t.TempDir(). (Validation refuses a loopback advertise
// address, so the configuration is defaulted, not loaded: v1alpha1.Load of
// this asset dir fails.)
func Render(t testing.TB) (string, *v1alpha1.BootstrapConfiguration) {
	t.Helper()
	tmp := t.TempDir()
	cfg := &v1alpha1.BootstrapConfiguration{}
	cfg.APIServer.AdvertiseAddress = "127.0.0.1"
	cfg.APIServer.BindPort = int32(testetcd.FreePort(t))
	cfg.Node.Name = NodeName
	cfg.Node.StaticPodPath = filepath.Join(tmp, "manifests")
	v1alpha1.SetDefaults(cfg)
	l := cfg.Etcd.Local
	l.ClientPort, l.PeerPort = int32(testetcd.FreePort(t)), int32(testetcd.FreePort(t))
	l.BootClientPort, l.BootPeerPort = int32(testetcd.FreePort(t)), int32(testetcd.FreePort(t))
	l.DataDir, l.BootDataDir, l.CertDir = filepath.Join(tmp, "etcd"), filepath.Join(tmp, "boot-etcd"), filepath.Join(tmp, "pki", "etcd")
	dir := filepath.Join(tmp, "assets")
	if _, err := assets.Render(cfg, dir, assets.Options{}); err != nil {
		t.Fatalf("render: %v", err)
	}
	return dir, cfg
}

// Start renders an asset dir and starts the temporary control plane on it
// as `bootstrap start` does (boot member, temporary apiserver on
// apiServer.bindPort); it stops at test cleanup.
func Start(t testing.TB) *ControlPlane {
	t.Helper()
	dir, cfg := Render(t)
	tcfg, err := tempcontrolplane.FromBootstrapConfiguration(cfg, dir)
	if err != nil {
		t.Fatal(err)
	}
	tcfg.EtcdName = assets.BootEtcdMemberName
	tcfg.EtcdLogLevel = "fatal"
	cp, err := tempcontrolplane.New(tcfg)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	if err := cp.Start(ctx); err != nil {
		t.Fatalf("starting the temporary control plane: %v", err)
	}
	t.Cleanup(func() {
		if err := cp.Stop(); err != nil {
			t.Errorf("stopping the temporary control plane: %v", err)
		}
	})
	admin := cp.AdminConfig()
	cs, err := kubernetes.NewForConfig(admin)
	if err != nil {
		t.Fatal(err)
	}
	return &ControlPlane{ControlPlane: cp, AssetDir: dir, Config: cfg, Admin: admin, Client: cs}
}
