package tempcontrolplane

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"net/http"
	"os"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	certutil "k8s.io/client-go/util/cert"
	"k8s.io/client-go/util/keyutil"

	"github.com/bootstrap-k8s/bootstrap/pkg/assets"
)

// clientCert issues a client certificate from the given CA files (or a fresh
// self-signed CA when caCertPath is empty: an unknown CA).
func clientCert(t *testing.T, caCertPath, caKeyPath, cn string, groups ...string) (certPEM, keyPEM []byte) {
	t.Helper()
	var caCert *x509.Certificate
	var caKey crypto.Signer
	if caCertPath == "" {
		k, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		c, err := certutil.NewSelfSignedCACert(certutil.Config{CommonName: "stranger-ca"}, k)
		if err != nil {
			t.Fatal(err)
		}
		caCert, caKey = c, k
	} else {
		certs, err := certutil.CertsFromFile(caCertPath)
		if err != nil {
			t.Fatal(err)
		}
		k, err := keyutil.PrivateKeyFromFile(caKeyPath)
		if err != nil {
			t.Fatal(err)
		}
		caCert, caKey = certs[0], k.(crypto.Signer)
	}
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(time.Now().UnixNano()),
		Subject:      pkix.Name{CommonName: cn, Organization: groups},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(time.Hour),
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, caCert, key.Public(), caKey)
	if err != nil {
		t.Fatal(err)
	}
	kd, _ := x509.MarshalECPrivateKey(key)
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: kd})
}

func clientFor(t *testing.T, cp *testCP, certPEM, keyPEM []byte) kubernetes.Interface {
	cfg := rest.AnonymousClientConfig(cp.admin)
	cfg.CertData, cfg.KeyData = certPEM, keyPEM
	return kubernetes.NewForConfigOrDie(cfg)
}

// TestAuthentication: only certificates of the cluster CA get in (401
// otherwise), and only the bootstrap identities are authorized (403 otherwise).
func TestAuthentication(t *testing.T) {
	cp := shared
	ca, caKey := assets.Path(cp.assetDir, assets.CACert), assets.Path(cp.assetDir, assets.CAKey)
	cases := []struct {
		name   string
		client func() kubernetes.Interface
		want   int
	}{
		{"admin kubeconfig", func() kubernetes.Interface { return cp.cs }, 200},
		{"anonymous", func() kubernetes.Interface { return kubernetes.NewForConfigOrDie(rest.AnonymousClientConfig(cp.admin)) }, 401},
		{"unknown CA", func() kubernetes.Interface {
			c, k := clientCert(t, "", "", "admin", assets.MastersGroup)
			return clientFor(t, cp, c, k)
		}, 401},
		{"non-admin user", func() kubernetes.Interface {
			c, k := clientCert(t, ca, caKey, "alice", "developers")
			return clientFor(t, cp, c, k)
		}, 403},
		{"service account-like user", func() kubernetes.Interface {
			c, k := clientCert(t, ca, caKey, "system:serviceaccount:kube-system:default", "system:serviceaccounts")
			return clientFor(t, cp, c, k)
		}, 403},
		{"system:masters", func() kubernetes.Interface {
			c, k := clientCert(t, ca, caKey, "root", assets.MastersGroup)
			return clientFor(t, cp, c, k)
		}, 200},
		{"node", func() kubernetes.Interface {
			c, k := clientCert(t, ca, caKey, "system:node:node1", assets.NodesGroup)
			return clientFor(t, cp, c, k)
		}, 200},
		{"controller-manager", func() kubernetes.Interface {
			c, k := clientCert(t, ca, caKey, assets.ControllerManagerUser)
			return clientFor(t, cp, c, k)
		}, 200},
		{"scheduler", func() kubernetes.Interface {
			c, k := clientCert(t, ca, caKey, assets.SchedulerUser)
			return clientFor(t, cp, c, k)
		}, 200},
		{"kube-proxy", func() kubernetes.Interface {
			c, k := clientCert(t, ca, caKey, assets.KubeProxyUser)
			return clientFor(t, cp, c, k)
		}, 200},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var code int
			res := tc.client().CoreV1().RESTClient().Get().AbsPath("/api/v1/namespaces/default").Do(context.Background())
			res.StatusCode(&code)
			if code != tc.want {
				t.Fatalf("GET namespace: status %d (%v), want %d", code, res.Error(), tc.want)
			}
		})
	}
	// The rendered kubeconfigs of the control-plane components work as they are.
	for _, kc := range []string{assets.KubeletKubeconfig, assets.ControllerManagerKubeconfig, assets.SchedulerKubeconfig} {
		path := assets.Path(cp.assetDir, kc)
		if _, err := os.Stat(path); err != nil {
			continue
		}
		t.Run(kc, func(t *testing.T) {
			cs := kubeconfigClient(t, cp, path)
			if _, err := cs.CoreV1().Namespaces().Get(context.Background(), "kube-system", metav1.GetOptions{}); err != nil {
				t.Fatal(err)
			}
		})
	}
}

// TestHealthForAnyIdentity: a load balancer's health check with a client
// certificate of the cluster CA and no group reads /readyz, /livez,
// /healthz and /version (200), and nothing else (403).
func TestHealthForAnyIdentity(t *testing.T) {
	cp := shared
	c, k := clientCert(t, assets.Path(cp.assetDir, assets.CACert), assets.Path(cp.assetDir, assets.CAKey), "lb-health-check")
	rc := clientFor(t, cp, c, k).CoreV1().RESTClient()
	for path, want := range map[string]int{"/readyz": 200, "/livez": 200, "/healthz": 200, "/version": 200,
		"/api": 403, "/metrics": 403, "/readyz/etcd": 403, "/api/v1/namespaces/default": 403} {
		var code int
		rc.Get().AbsPath(path).Do(context.Background()).StatusCode(&code)
		if code != want {
			t.Errorf("GET %s as lb-health-check: %d, want %d", path, code, want)
		}
	}
	var code int
	rc.Post().AbsPath("/readyz").Do(context.Background()).StatusCode(&code)
	if code != 403 {
		t.Errorf("POST /readyz as lb-health-check: %d, want 403", code)
	}
}

// TestAnonymousHealth: even /healthz and /version need a client certificate.
func TestAnonymousHealth(t *testing.T) {
	tr := &http.Transport{TLSClientConfig: &tls.Config{InsecureSkipVerify: true}}
	c := &http.Client{Transport: tr, Timeout: 5 * time.Second}
	for _, p := range []string{"/healthz", "/version", "/api"} {
		resp, err := c.Get(shared.APIServerURL() + p)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != 401 {
			t.Errorf("%s without a certificate: %d, want 401", p, resp.StatusCode)
		}
	}
}
