package assets

import (
	"crypto/x509"
	"net"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	certutil "k8s.io/client-go/util/cert"
)

// TestEtcdMember: a further node's member gets certificates for its own
// name and address from the asset dir's etcd CA, and a static pod that
// joins the given cluster as an existing one.
func TestEtcdMember(t *testing.T) {
	dir, _ := renderFresh(t)
	cfg := testConfig(t)
	const initial = "node-1=https://10.250.0.2:2380,node-2=https://10.250.0.3:2380"
	m, err := EtcdMember(cfg, dir, "node-2", "10.250.0.3", initial, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	ca := loadCert(t, dir, EtcdCACert)
	pool := x509.NewCertPool()
	pool.AddCert(ca)
	for _, leaf := range []string{"server", "peer"} {
		certs, err := certutil.ParseCertsPEM(m.CertFiles[leaf+".crt"])
		if err != nil {
			t.Fatal(err)
		}
		c := certs[0]
		if c.Subject.CommonName != "node-2" || !slices.Contains(c.DNSNames, "node-2") || !slices.ContainsFunc(c.IPAddresses, func(ip net.IP) bool { return ip.Equal(net.ParseIP("10.250.0.3")) }) {
			t.Errorf("%s certificate: CN %s, DNS %v, IPs %v; want node-2 and 10.250.0.3", leaf, c.Subject.CommonName, c.DNSNames, c.IPAddresses)
		}
		if slices.ContainsFunc(c.IPAddresses, func(ip net.IP) bool { return ip.Equal(net.ParseIP("10.250.0.2")) }) {
			t.Errorf("%s certificate names node 1's address", leaf)
		}
		if _, err := c.Verify(x509.VerifyOptions{Roots: pool, KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageAny}}); err != nil {
			t.Errorf("%s certificate does not chain to the etcd CA: %v", leaf, err)
		}
		if !strings.Contains(string(m.CertFiles[leaf+".key"]), "PRIVATE KEY") {
			t.Errorf("no %s key", leaf)
		}
	}
	for _, want := range []string{"--name=node-2", "--initial-cluster=" + initial, "--initial-cluster-state=existing",
		"--listen-peer-urls=https://10.250.0.3:2380", "--advertise-client-urls=https://10.250.0.3:2379"} {
		if !strings.Contains(string(m.Manifest), want) {
			t.Errorf("manifest lacks %s:\n%s", want, m.Manifest)
		}
	}
	if _, err := EtcdMember(cfg, filepath.Join(t.TempDir(), "empty"), "node-2", "10.250.0.3", initial, time.Now()); err == nil || !strings.Contains(err.Error(), "no usable etcd CA") {
		t.Errorf("an asset dir without the etcd CA: %v", err)
	}
}

// TestEtcdElectionTimeout: members get a 500 ms election timeout unless
// the user's extraArgs tune the election timeout or the heartbeat (the
// pair must stay valid: etcd wants at least 5 heartbeats per election).
func TestEtcdElectionTimeout(t *testing.T) {
	for _, tc := range []struct {
		name  string
		extra map[string]string
		want  string // the flag's value; "" = not set
	}{
		{"default", nil, EtcdElectionTimeoutMs},
		{"user's election timeout", map[string]string{"election-timeout": "5000"}, "5000"},
		{"user's heartbeat only", map[string]string{"heartbeat-interval": "500"}, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg := testConfig(t)
			cfg.Etcd.Local.ExtraArgs = tc.extra
			r := &renderer{cfg: cfg}
			pod := r.etcdMemberPod("node-1=https://10.250.0.2:2380")
			var got string
			for _, a := range pod.Spec.Containers[0].Args {
				if v, ok := strings.CutPrefix(a, "--election-timeout="); ok {
					got = v
				}
			}
			if got != tc.want {
				t.Errorf("--election-timeout=%q, want %q (args %v)", got, tc.want, pod.Spec.Containers[0].Args)
			}
		})
	}
}
