package csrapprover

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"encoding/pem"
	"errors"
	"net"
	"net/url"
	"strings"
	"testing"

	certificatesv1 "k8s.io/api/certificates/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// request describes one CSR; the zero-value fields of a case are filled in
// from goodRequest.
type request struct {
	name     string
	signer   string
	username string
	groups   []string
	subject  pkix.Name
	dns      []string
	ips      []string
	emails   []string
	uris     []string
	usages   []certificatesv1.KeyUsage
	pem      []byte // overrides the generated request
}

func goodRequest() request {
	return request{
		name:     "csr-good",
		signer:   certificatesv1.KubeletServingSignerName,
		username: "system:node:node-1",
		groups:   []string{"system:nodes", "system:authenticated"},
		subject:  pkix.Name{CommonName: "system:node:node-1", Organization: []string{"system:nodes"}},
		dns:      []string{"node-1"},
		ips:      []string{"10.0.0.10"},
		usages:   []certificatesv1.KeyUsage{certificatesv1.UsageDigitalSignature, certificatesv1.UsageServerAuth},
	}
}

// build makes a real, signed PKCS#10 request with crypto/x509.
func (r request) build(t testing.TB) *certificatesv1.CertificateSigningRequest {
	t.Helper()
	data := r.pem
	if data == nil {
		key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		if err != nil {
			t.Fatal(err)
		}
		tmpl := &x509.CertificateRequest{Subject: r.subject, DNSNames: r.dns, EmailAddresses: r.emails}
		for _, ip := range r.ips {
			tmpl.IPAddresses = append(tmpl.IPAddresses, net.ParseIP(ip))
		}
		for _, u := range r.uris {
			parsed, err := url.Parse(u)
			if err != nil {
				t.Fatal(err)
			}
			tmpl.URIs = append(tmpl.URIs, parsed)
		}
		der, err := x509.CreateCertificateRequest(rand.Reader, tmpl, key)
		if err != nil {
			t.Fatal(err)
		}
		data = pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE REQUEST", Bytes: der})
	}
	return &certificatesv1.CertificateSigningRequest{
		ObjectMeta: metav1.ObjectMeta{Name: r.name},
		Spec: certificatesv1.CertificateSigningRequestSpec{
			Request:    data,
			SignerName: r.signer,
			Username:   r.username,
			Groups:     r.groups,
			Usages:     r.usages,
		},
	}
}

func testNode(name string, addrs ...corev1.NodeAddress) *corev1.Node {
	if addrs == nil {
		addrs = []corev1.NodeAddress{{Type: corev1.NodeInternalIP, Address: "10.0.0.10"}, {Type: corev1.NodeHostName, Address: name}}
	}
	return &corev1.Node{ObjectMeta: metav1.ObjectMeta{Name: name}, Status: corev1.NodeStatus{Addresses: addrs}}
}

// badRequests are requests a node credential could send that must not be
// approved, each with a word of the reason Validate must give.
func badRequests() []struct {
	desc, reason string
	req          request
} {
	with := func(f func(*request)) request { r := goodRequest(); f(&r); return r }
	return []struct {
		desc, reason string
		req          request
	}{
		{"client signer", "signer", with(func(r *request) { r.signer = certificatesv1.KubeAPIServerClientKubeletSignerName })},
		{"requester not a node", "not by a node", with(func(r *request) { r.username = "alice" })},
		{"node user outside system:nodes", "group", with(func(r *request) { r.groups = []string{"system:authenticated"} })},
		{"CN of another node", "subject CN", with(func(r *request) { r.subject.CommonName = "system:node:node-2" })},
		{"CN not a node", "subject CN", with(func(r *request) { r.subject.CommonName = "kube-apiserver" })},
		{"O system:masters", "subject O", with(func(r *request) { r.subject.Organization = []string{"system:masters"} })},
		{"O with an extra group", "subject O", with(func(r *request) { r.subject.Organization = []string{"system:nodes", "system:masters"} })},
		{"no O", "subject O", with(func(r *request) { r.subject.Organization = nil })},
		{"extra OU", "besides CN and O", with(func(r *request) { r.subject.OrganizationalUnit = []string{"x"} })},
		{"client auth usage", "usage", with(func(r *request) {
			r.usages = append(r.usages, certificatesv1.UsageClientAuth)
		})},
		{"cert sign usage", "usage", with(func(r *request) {
			r.usages = append(r.usages, certificatesv1.UsageCertSign)
		})},
		{"no server auth", "lack", with(func(r *request) { r.usages = []certificatesv1.KeyUsage{certificatesv1.UsageDigitalSignature} })},
		{"no digital signature", "lack", with(func(r *request) { r.usages = []certificatesv1.KeyUsage{certificatesv1.UsageServerAuth} })},
		{"email SAN", "email", with(func(r *request) { r.emails = []string{"root@node-1"} })},
		{"URI SAN", "URI", with(func(r *request) { r.uris = []string{"spiffe://cluster/ns/kube-system"} })},
		{"no SAN", "no DNS or IP SAN", with(func(r *request) { r.dns, r.ips = nil, nil })},
		{"DNS name of the apiserver", "DNS SAN", with(func(r *request) { r.dns = []string{"node-1", "kubernetes.default.svc"} })},
		{"wildcard DNS name", "DNS SAN", with(func(r *request) { r.dns = []string{"*.cluster.local"} })},
		{"IP of another host", "IP SAN", with(func(r *request) { r.ips = []string{"10.0.0.10", "10.96.0.1"} })},
		{"loopback IP", "IP SAN", with(func(r *request) { r.ips = []string{"127.0.0.1"} })},
		{"not PEM", "PEM", with(func(r *request) { r.pem = []byte("garbage") })},
		{"PEM of a certificate", "PEM", with(func(r *request) {
			r.pem = pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: []byte{1}})
		})},
		{"broken DER", "spec.request", with(func(r *request) {
			r.pem = pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE REQUEST", Bytes: []byte{0x30, 0x03, 1, 2, 3}})
		})},
	}
}

func TestValidateApprovesGoodRequests(t *testing.T) {
	with := func(f func(*request)) request { r := goodRequest(); f(&r); return r }
	tests := []struct {
		desc string
		req  request
		node *corev1.Node
	}{
		{"hostname and internal IP", goodRequest(), testNode("node-1")},
		{"IP only", with(func(r *request) { r.dns = nil }), testNode("node-1")},
		{"DNS only", with(func(r *request) { r.ips = nil }), testNode("node-1")},
		{"RSA usages (key encipherment)", with(func(r *request) {
			r.usages = append(r.usages, certificatesv1.UsageKeyEncipherment)
		}), testNode("node-1")},
		{"external DNS and IPv6", with(func(r *request) { r.dns, r.ips = []string{"Node-1.Example.COM"}, []string{"fd00::a"} }),
			testNode("node-1", corev1.NodeAddress{Type: corev1.NodeExternalDNS, Address: "node-1.example.com"},
				corev1.NodeAddress{Type: corev1.NodeInternalIP, Address: "fd00:0::a"})},
	}
	for _, tc := range tests {
		t.Run(tc.desc, func(t *testing.T) {
			if err := Validate(tc.req.build(t), tc.node); err != nil {
				t.Errorf("Validate: %v; want approval", err)
			}
		})
	}
}

func TestValidateRefusesBadRequests(t *testing.T) {
	for _, tc := range badRequests() {
		t.Run(tc.desc, func(t *testing.T) {
			err := Validate(tc.req.build(t), testNode("node-1"))
			if err == nil {
				t.Fatal("Validate approved it")
			}
			if !strings.Contains(err.Error(), tc.reason) {
				t.Errorf("Validate: %q; want a reason naming %q", err, tc.reason)
			}
			if errors.Is(err, ErrNodeNotFound) {
				t.Errorf("Validate: %v is a verdict, not a missing node", err)
			}
		})
	}
}

func TestValidateWithoutNode(t *testing.T) {
	err := Validate(goodRequest().build(t), nil)
	if !errors.Is(err, ErrNodeNotFound) {
		t.Errorf("Validate without a Node: %v; want ErrNodeNotFound (retry)", err)
	}
}

// TestValidateTamperedSignature: a request whose body was changed after
// signing (so that it claims a SAN its key never signed) is refused.
func TestValidateTamperedSignature(t *testing.T) {
	csr := goodRequest().build(t)
	block, _ := pem.Decode(csr.Spec.Request)
	var raw struct {
		Info   asn1.RawValue
		Alg    asn1.RawValue
		Signed asn1.BitString
	}
	if _, err := asn1.Unmarshal(block.Bytes, &raw); err != nil {
		t.Fatal(err)
	}
	raw.Signed.Bytes[len(raw.Signed.Bytes)-1] ^= 0xff
	der, err := asn1.Marshal(raw)
	if err != nil {
		t.Fatal(err)
	}
	csr.Spec.Request = pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE REQUEST", Bytes: der})
	if err := Validate(csr, testNode("node-1")); err == nil || !strings.Contains(err.Error(), "signature") {
		t.Errorf("Validate of a request with a broken signature: %v; want a signature error", err)
	}
}
