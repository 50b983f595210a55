package assets

import (
	"crypto/ecdsa"
	"crypto/rsa"
	"crypto/x509"
	"os"
	"os/exec"
	"slices"
	"testing"

	certutil "k8s.io/client-go/util/cert"

	"github.com/bootstrap-k8s/bootstrap/pkg/apis/bootstrap/v1alpha1"
)

func loadCert(t *testing.T, dir, rel string) *x509.Certificate {
	t.Helper()
	certs, err := certutil.CertsFromFile(Path(dir, rel))
	if err != nil {
		t.Fatal(err)
	}
	return certs[0]
}

func TestCertificates(t *testing.T) {
	dir, _ := renderFresh(t)
	client := []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}
	server := []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}
	both := []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth, x509.ExtKeyUsageClientAuth}
	tests := []struct {
		cert, ca string
		cn       string
		usages   []x509.ExtKeyUsage
		dns      []string
		ips      []string
	}{
		{APIServerCert, CACert, "kube-apiserver", server,
			[]string{"k8s.example.com", "kubernetes", "kubernetes.default", "kubernetes.default.svc", "kubernetes.default.svc.cluster.local", "localhost", "node-1"},
			[]string{"10.250.0.2", "10.96.0.1", "127.0.0.1", "192.0.2.50"}},
		{APIServerKubeletCert, CACert, APIServerKubeletUser, client, nil, nil},
		{APIServerEtcdClientCert, EtcdCACert, APIServerEtcdUser, client, nil, nil},
		{FrontProxyClientCert, FrontProxyCACert, FrontProxyClientUser, client, nil, nil},
		{EtcdServerCert, EtcdCACert, "node-1", both, // ClientAuth for etcd's gRPC gateway (docs/assets.md)
			[]string{"localhost", "node-1"}, []string{"10.250.0.2", "127.0.0.1", "::1"}},
		{EtcdPeerCert, EtcdCACert, "node-1", both, []string{"localhost", "node-1"}, []string{"10.250.0.2", "127.0.0.1", "::1"}},
		{EtcdHealthcheckCert, EtcdCACert, EtcdHealthcheckUser, client, nil, nil},
	}
	for _, tc := range tests {
		t.Run(tc.cert, func(t *testing.T) {
			c := loadCert(t, dir, tc.cert)
			ca := loadCert(t, dir, tc.ca)
			pool := x509.NewCertPool()
			pool.AddCert(ca)
			if _, err := c.Verify(x509.VerifyOptions{Roots: pool, CurrentTime: testNow, KeyUsages: tc.usages}); err != nil {
				t.Errorf("does not verify against %s: %v", tc.ca, err)
			}
			out, err := exec.Command("openssl", "verify", "-attime", "1793534400", "-CAfile", Path(dir, tc.ca), Path(dir, tc.cert)).CombinedOutput()
			if err != nil {
				t.Errorf("openssl verify: %v: %s", err, out)
			}
			if c.Subject.CommonName != tc.cn {
				t.Errorf("CN %q, want %q", c.Subject.CommonName, tc.cn)
			}
			if !slices.Equal(sortedUsages(c.ExtKeyUsage), sortedUsages(tc.usages)) {
				t.Errorf("usages %v, want %v", c.ExtKeyUsage, tc.usages)
			}
			if c.IsCA || c.KeyUsage&x509.KeyUsageCertSign != 0 {
				t.Error("a leaf must not be able to sign certificates")
			}
			if !sameStrings(c.DNSNames, tc.dns) || !sameStrings(ipStrings(c.IPAddresses), tc.ips) {
				t.Errorf("SANs %v %v, want %v %v", c.DNSNames, ipStrings(c.IPAddresses), tc.dns, tc.ips)
			}
			if got := c.NotAfter.Sub(testNow); got != v1alpha1.DefaultValidity {
				t.Errorf("leaf validity %v, want %v", got, v1alpha1.DefaultValidity)
			}
			if _, ok := c.PublicKey.(*ecdsa.PublicKey); !ok {
				t.Errorf("key %T, want ECDSA (the default)", c.PublicKey)
			}
		})
	}
	for _, ca := range []string{CACert, EtcdCACert, FrontProxyCACert} {
		c := loadCert(t, dir, ca)
		if !c.IsCA || c.NotAfter.Sub(testNow) != v1alpha1.DefaultCAValidity || len(c.ExtKeyUsage) != 0 {
			t.Errorf("%s: IsCA=%v validity=%v extKeyUsage=%v", ca, c.IsCA, c.NotAfter.Sub(testNow), c.ExtKeyUsage)
		}
	}
}

func TestKeyAlgorithms(t *testing.T) {
	algs := []struct {
		name string
		bits int
	}{{v1alpha1.KeyAlgorithmECDSAP256, 256}, {v1alpha1.KeyAlgorithmRSA2048, 2048}}
	if !testing.Short() {
		algs = append(algs, struct {
			name string
			bits int
		}{v1alpha1.KeyAlgorithmRSA3072, 3072})
	}
	for _, alg := range algs {
		t.Run(alg.name, func(t *testing.T) {
			cfg := testConfig(t)
			cfg.Certificates.KeyAlgorithm = alg.name
			dir := t.TempDir()
			if _, err := Render(cfg, dir, testOptions()); err != nil {
				t.Fatal(err)
			}
			c := loadCert(t, dir, APIServerCert)
			switch k := c.PublicKey.(type) {
			case *ecdsa.PublicKey:
				if k.Curve.Params().BitSize != alg.bits {
					t.Errorf("curve %d bits, want %d", k.Curve.Params().BitSize, alg.bits)
				}
			case *rsa.PublicKey:
				if k.N.BitLen() != alg.bits {
					t.Errorf("RSA %d bits, want %d", k.N.BitLen(), alg.bits)
				}
				if c.KeyUsage&x509.KeyUsageKeyEncipherment == 0 {
					t.Error("RSA serving key without keyEncipherment")
				}
			}
		})
	}
	k, err := issuer{alg: v1alpha1.KeyAlgorithmRSA4096}.newKey()
	if err != nil || k.(*rsa.PrivateKey).N.BitLen() != 4096 {
		t.Fatalf("RSA-4096 key: %v", err)
	}
}

func TestPermissions(t *testing.T) {
	dir, _ := renderFresh(t)
	for _, rel := range []string{"", TLSDir, "tls/etcd", AuthDir, ManifestsDir, StaticDir} {
		fi, err := os.Stat(Path(dir, rel))
		if err != nil || fi.Mode().Perm() != 0o700 {
			t.Errorf("dir %q: mode %v, want 0700 (%v)", rel, fi.Mode().Perm(), err)
		}
	}
	for _, rel := range []string{CAKey, EtcdCAKey, FrontProxyCAKey, APIServerKey, EtcdPeerKey, ServiceAccountKey,
		AdminKubeconfig, SuperAdminKubeconfig, KubeletKubeconfig, BootstrapKubeletKubeconfig, ConfigFile} {
		fi, err := os.Stat(Path(dir, rel))
		if err != nil || fi.Mode().Perm() != 0o600 {
			t.Errorf("%s: mode %v, want 0600 (%v)", rel, fi.Mode().Perm(), err)
		}
	}
}
