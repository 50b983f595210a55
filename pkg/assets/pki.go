package assets

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"crypto/x509/pkix"
	"fmt"
	"math/big"
	"net"
	"time"

	"github.com/bootstrap-k8s/bootstrap/pkg/apis/bootstrap/v1alpha1"
)

// KeyPair is a certificate with its private key.
type KeyPair struct {
	Cert *x509.Certificate
	Key  crypto.Signer
}

// certSpec says what one certificate must contain. Two certificates that
// satisfy the same spec are interchangeable, which is what makes re-rendering
// idempotent: an existing leaf is kept while it still satisfies its spec.
type certSpec struct {
	// Name is the asset path without extension, e.g. "tls/apiserver".
	Name   string
	CN     string
	Orgs   []string
	DNS    []string
	IPs    []net.IP
	Usages []x509.ExtKeyUsage
}

// issuer creates keys and certificates with one algorithm, lifetime and clock.
type issuer struct {
	alg        string
	caValidity time.Duration
	validity   time.Duration
	now        time.Time
}

func (is issuer) newKey() (crypto.Signer, error) {
	switch is.alg {
	case v1alpha1.KeyAlgorithmECDSAP256, "":
		return ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	case v1alpha1.KeyAlgorithmRSA2048:
		return rsa.GenerateKey(rand.Reader, 2048)
	case v1alpha1.KeyAlgorithmRSA3072:
		return rsa.GenerateKey(rand.Reader, 3072)
	case v1alpha1.KeyAlgorithmRSA4096:
		return rsa.GenerateKey(rand.Reader, 4096)
	}
	return nil, fmt.Errorf("unsupported key algorithm %q", is.alg)
}

// keyMatchesAlgorithm reports whether an existing key is of the configured
// algorithm, so that changing certificates.keyAlgorithm re-issues leaves.
func (is issuer) keyMatchesAlgorithm(pub crypto.PublicKey) bool {
	switch k := pub.(type) {
	case *ecdsa.PublicKey:
		return (is.alg == v1alpha1.KeyAlgorithmECDSAP256 || is.alg == "") && k.Curve == elliptic.P256()
	case *rsa.PublicKey:
		return is.alg == fmt.Sprintf("RSA-%d", k.N.BitLen())
	}
	return false
}

func serial() (*big.Int, error) {
	return rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 127))
}

// newCA creates a self-signed CA. Its key usages are limited to signing.
func (is issuer) newCA(cn string) (*KeyPair, error) {
	key, err := is.newKey()
	if err != nil {
		return nil, err
	}
	sn, err := serial()
	if err != nil {
		return nil, err
	}
	tmpl := &x509.Certificate{
		SerialNumber:          sn,
		Subject:               pkix.Name{CommonName: cn},
		NotBefore:             is.now.Add(-5 * time.Minute).UTC(),
		NotAfter:              is.now.Add(is.caValidity).UTC(),
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageCRLSign | x509.KeyUsageDigitalSignature,
		BasicConstraintsValid: true,
		IsCA:                  true,
		SubjectKeyId:          keyID(key.Public()),
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, key.Public(), key)
	if err != nil {
		return nil, fmt.Errorf("creating CA %q: %w", cn, err)
	}
	crt, err := x509.ParseCertificate(der)
	if err != nil {
		return nil, err
	}
	return &KeyPair{Cert: crt, Key: key}, nil
}

// issue creates a leaf certificate for spec signed by ca.
func (is issuer) issue(ca *KeyPair, spec certSpec) (*KeyPair, error) {
	key, err := is.newKey()
	if err != nil {
		return nil, err
	}
	sn, err := serial()
	if err != nil {
		return nil, err
	}
	usage := x509.KeyUsageDigitalSignature
	if _, isRSA := key.(*rsa.PrivateKey); isRSA {
		usage |= x509.KeyUsageKeyEncipherment
	}
	notAfter := is.now.Add(is.validity)
	if notAfter.After(ca.Cert.NotAfter) {
		notAfter = ca.Cert.NotAfter
	}
	tmpl := &x509.Certificate{
		SerialNumber:   sn,
		Subject:        pkix.Name{CommonName: spec.CN, Organization: spec.Orgs},
		DNSNames:       spec.DNS,
		IPAddresses:    spec.IPs,
		NotBefore:      is.now.Add(-5 * time.Minute).UTC(),
		NotAfter:       notAfter.UTC(),
		KeyUsage:       usage,
		ExtKeyUsage:    spec.Usages,
		AuthorityKeyId: ca.Cert.SubjectKeyId,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca.Cert, key.Public(), ca.Key)
	if err != nil {
		return nil, fmt.Errorf("issuing %s: %w", spec.Name, err)
	}
	crt, err := x509.ParseCertificate(der)
	if err != nil {
		return nil, err
	}
	return &KeyPair{Cert: crt, Key: key}, nil
}

func keyID(pub crypto.PublicKey) []byte {
	der, err := x509.MarshalPKIXPublicKey(pub)
	if err != nil {
		return nil
	}
	sum := sha256.Sum256(der)
	return sum[:20]
}
