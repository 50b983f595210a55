package assets

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/bootstrap-k8s/bootstrap/internal/testtree"
)

func TestRenderRefusesInconsistentAssetDir(t *testing.T) {
	other, _ := renderFresh(t) // another cluster: other CAs and keys
	tests := []struct {
		name    string
		corrupt func(t *testing.T, dir string)
		want    string
	}{
		{"key not matching its certificate", func(t *testing.T, dir string) {
			copyFile(t, Path(other, APIServerKey), Path(dir, APIServerKey))
		}, "does not match its certificate"},
		{"certificate of another CA", func(t *testing.T, dir string) {
			copyFile(t, Path(other, APIServerKey), Path(dir, APIServerKey))
			copyFile(t, Path(other, APIServerCert), Path(dir, APIServerCert))
		}, "not signed by the CA"},
		{"CA key missing", func(t *testing.T, dir string) {
			os.Remove(Path(dir, CAKey))
		}, "private key"},
		{"CA key of another CA", func(t *testing.T, dir string) {
			copyFile(t, Path(other, EtcdCAKey), Path(dir, EtcdCAKey))
		}, "does not match its certificate"},
		{"certificate without key", func(t *testing.T, dir string) {
			os.Remove(Path(dir, EtcdPeerKey))
		}, "only one of"},
		{"garbage certificate", func(t *testing.T, dir string) {
			os.WriteFile(Path(dir, FrontProxyClientCert), []byte("not a cert"), 0o644)
		}, "not a PEM certificate"},
		{"service-account public key of another cluster", func(t *testing.T, dir string) {
			copyFile(t, Path(other, ServiceAccountPub), Path(dir, ServiceAccountPub))
		}, "does not match"},
		{"foreign leaf and a missing front-proxy CA", func(t *testing.T, dir string) {
			// The front-proxy CA would be generated before the leaf is
			// refused: nothing may be written until every check passed.
			os.Remove(Path(dir, FrontProxyCACert))
			os.Remove(Path(dir, FrontProxyCAKey))
			copyFile(t, Path(other, APIServerKey), Path(dir, APIServerKey))
			copyFile(t, Path(other, APIServerCert), Path(dir, APIServerCert))
		}, "not signed by the CA"},
		{"foreign leaf in a dir without an encryption configuration", func(t *testing.T, dir string) {
			os.Remove(Path(dir, EncryptionConfig))
			copyFile(t, Path(other, EtcdServerKey), Path(dir, EtcdServerKey))
			copyFile(t, Path(other, EtcdServerCert), Path(dir, EtcdServerCert))
		}, "not signed by the CA"},
		{"kubeconfig of another cluster", func(t *testing.T, dir string) {
			copyFile(t, Path(other, AdminKubeconfig), Path(dir, AdminKubeconfig))
		}, "not signed by the CA"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			dir, _ := renderFresh(t)
			tc.corrupt(t, dir)
			before := testtree.Snapshot(t, dir)
			_, err := Render(testConfig(t), dir, testOptions())
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error %v, want it to say %q", err, tc.want)
			}
			if changes := before.Changes(t, dir); len(changes) > 0 {
				t.Errorf("refused render changed the asset dir: %v", changes)
			}
		})
	}
}

func TestRenderKeepsForeignFilesAndCA(t *testing.T) {
	dir, first := renderFresh(t)
	own := Path(dir, "manifests/99-mine.yaml")
	if err := os.WriteFile(own, []byte("kind: Mine\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	cfg := testConfig(t)
	cfg.APIServer.ExtraSANs = append(cfg.APIServer.ExtraSANs, "new.example.com")
	later := Options{Now: func() time.Time { return testNow.Add(time.Hour) }}
	second, err := Render(cfg, dir, later)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(own); err != nil {
		t.Errorf("render removed a file it did not write: %v", err)
	}
	if !first.PKI.CA.Cert.Equal(second.PKI.CA.Cert) || !first.PKI.EtcdCA.Cert.Equal(second.PKI.EtcdCA.Cert) {
		t.Error("a second render replaced a CA")
	}
	if first.PKI.APIServer.Cert.Equal(second.PKI.APIServer.Cert) {
		t.Error("a new extra SAN did not re-issue the apiserver certificate")
	}
	if !first.PKI.APIServerKubeletClient.Cert.Equal(second.PKI.APIServerKubeletClient.Cert) {
		t.Error("an unrelated leaf was re-issued")
	}
}

func copyFile(t *testing.T, from, to string) {
	t.Helper()
	data, err := os.ReadFile(from)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(to, data, 0o600); err != nil {
		t.Fatal(err)
	}
}

func BenchmarkRenderECDSA(b *testing.B) {
	cfg := testConfig(b)
	for i := 0; i < b.N; i++ {
		dir := filepath.Join(b.TempDir(), "assets")
		if _, err := Render(cfg, dir, Options{}); err != nil {
			b.Fatal(err)
		}
	}
}
