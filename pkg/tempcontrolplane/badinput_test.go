package tempcontrolplane

import (
	"context"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/bootstrap-k8s/bootstrap/pkg/assets"
)

// TestBadInput: every refusal names the file, dir or port and deletes nothing.
func TestBadInput(t *testing.T) {
	dir, _ := renderAssets(t)
	other, _ := renderAssets(t) // another cluster's PKI

	copyAsset := func(t *testing.T, from, to, rel string) {
		data, err := os.ReadFile(assets.Path(from, rel))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(assets.Path(to, rel), data, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	cloneDir := func(t *testing.T) string {
		t.Helper()
		d := filepath.Join(t.TempDir(), "assets")
		if err := os.CopyFS(d, os.DirFS(dir)); err != nil {
			t.Fatal(err)
		}
		return d
	}
	cases := []struct {
		name    string
		prepare func(t *testing.T, cfg *Config)
		want    []string
	}{
		{"missing etcd server cert", func(t *testing.T, cfg *Config) {
			os.Remove(assets.Path(cfg.AssetDir, assets.EtcdServerCert))
		}, []string{assets.EtcdServerCert, "missing"}},
		{"missing cluster CA", func(t *testing.T, cfg *Config) {
			os.Remove(assets.Path(cfg.AssetDir, assets.CACert))
		}, []string{assets.CACert, "missing"}},
		{"etcd key of another cluster", func(t *testing.T, cfg *Config) {
			copyAsset(t, other, cfg.AssetDir, assets.EtcdPeerKey)
		}, []string{assets.EtcdPeerCert, assets.EtcdPeerKey}},
		{"apiserver cert of another CA", func(t *testing.T, cfg *Config) {
			copyAsset(t, other, cfg.AssetDir, assets.APIServerCert)
			copyAsset(t, other, cfg.AssetDir, assets.APIServerKey)
		}, []string{assets.APIServerCert, "CA"}},
		{"missing admin kubeconfig", func(t *testing.T, cfg *Config) {
			os.Remove(assets.Path(cfg.AssetDir, assets.AdminKubeconfig))
		}, []string{assets.AdminKubeconfig}},
		{"data dir of another cluster", func(t *testing.T, cfg *Config) {
			os.MkdirAll(cfg.EtcdDataDir, 0o700)
			os.WriteFile(filepath.Join(cfg.EtcdDataDir, DataDirMarker), []byte("0123456789abcdef\n"), 0o600)
		}, []string{"belongs to another cluster", "nothing was deleted"}},
		{"foreign etcd data dir", func(t *testing.T, cfg *Config) {
			os.MkdirAll(filepath.Join(cfg.EtcdDataDir, "member", "snap"), 0o700)
		}, []string{"did not create", "nothing was deleted"}},
		{"etcd client port busy", func(t *testing.T, cfg *Config) {
			l, err := net.Listen("tcp", net.JoinHostPort("127.0.0.1", itoa(cfg.EtcdClientPort)))
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { l.Close() })
		}, []string{"in use by another process (etcd.local.bootClientPort)", "ss -ltnp"}},
		{"apiserver port busy", func(t *testing.T, cfg *Config) {
			l, err := net.Listen("tcp", net.JoinHostPort("127.0.0.1", itoa(cfg.BindPort)))
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { l.Close() })
		}, []string{"apiserver port", itoa(0)}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			cfg := testConfig(t, cloneDir(t))
			cfg.ReadyTimeout = 20 * time.Second
			tc.prepare(t, &cfg)
			before := listTree(t, cfg.EtcdDataDir)
			err := func() error {
				cp, err := New(cfg)
				if err != nil {
					return err
				}
				ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
				defer cancel()
				if err := cp.Start(ctx); err != nil {
					return err
				}
				cp.Stop()
				return nil
			}()
			if err == nil {
				t.Fatal("started despite bad input")
			}
			for _, w := range tc.want {
				if w == "0" {
					w = itoa(cfg.BindPort)
				}
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not mention %q", err, w)
				}
			}
			t.Logf("error: %v", err)
			after := listTree(t, cfg.EtcdDataDir)
			for p := range before {
				if !after[p] {
					t.Errorf("%s was deleted", p)
				}
			}
		})
	}
}

func listTree(t *testing.T, dir string) map[string]bool {
	out := map[string]bool{}
	filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if err == nil {
			out[p] = true
		}
		return nil
	})
	return out
}

// TestFromBootstrapConfiguration: the config helper maps the cluster
// configuration and refuses what the temporary control plane cannot do.
func TestFromBootstrapConfiguration(t *testing.T) {
	_, c := renderAssets(t)
	cfg, err := FromBootstrapConfiguration(c, "/assets")
	if err != nil {
		t.Fatal(err)
	}
	if cfg.BindAddress != "127.0.0.1" || cfg.BindPort != 6443 || cfg.EtcdClientPort != 12379 || cfg.EtcdPeerPort != 12380 ||
		cfg.EtcdDataDir != "/var/lib/bootstrap/etcd" || cfg.KubernetesVersion != "v1.37.2" || cfg.ServiceCIDR != "10.96.0.0/12" || cfg.EtcdName != "node1" {
		t.Fatalf("%+v", cfg)
	}
	c.Etcd.Local = nil
	if _, err := FromBootstrapConfiguration(c, "/assets"); err == nil {
		t.Fatal("accepted a configuration without a local etcd")
	}
}
