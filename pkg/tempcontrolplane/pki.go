package tempcontrolplane

import (
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"os"

	"github.com/bootstrap-k8s/bootstrap/pkg/assets"
	certutil "k8s.io/client-go/util/cert"
)

// pkiError names the asset that is wrong and what to do about it: the most
// common failure is a half-rendered or hand-edited asset dir.
func pkiError(assetDir, rel string, err error) error {
	return fmt.Errorf("asset %s: %w (re-run `bootstrap render` for asset dir %s or restore the file)", assets.Path(assetDir, rel), err, assetDir)
}

// loadCA reads a CA bundle from the asset dir.
func loadCA(assetDir, rel string) (*x509.CertPool, []*x509.Certificate, error) {
	p := assets.Path(assetDir, rel)
	data, err := os.ReadFile(p)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return nil, nil, pkiError(assetDir, rel, errors.New("missing"))
		}
		return nil, nil, pkiError(assetDir, rel, err)
	}
	certs, err := certutil.ParseCertsPEM(data)
	if err != nil {
		return nil, nil, pkiError(assetDir, rel, err)
	}
	pool := x509.NewCertPool()
	for _, c := range certs {
		pool.AddCert(c)
	}
	return pool, certs, nil
}

// checkPair loads a cert/key pair, checks that they match and that the
// certificate chains to the CA for the given usage. Doing this up front turns
// an obscure TLS handshake failure minutes later into an error naming the file.
func checkPair(assetDir, certRel, keyRel string, ca *x509.CertPool, usage x509.ExtKeyUsage) error {
	for _, rel := range []string{certRel, keyRel} {
		if _, err := os.Stat(assets.Path(assetDir, rel)); err != nil {
			if errors.Is(err, fs.ErrNotExist) {
				return pkiError(assetDir, rel, errors.New("missing"))
			}
			return pkiError(assetDir, rel, err)
		}
	}
	pair, err := tls.LoadX509KeyPair(assets.Path(assetDir, certRel), assets.Path(assetDir, keyRel))
	if err != nil {
		return pkiError(assetDir, certRel, fmt.Errorf("does not load with key %s: %w", keyRel, err))
	}
	leaf, err := x509.ParseCertificate(pair.Certificate[0])
	if err != nil {
		return pkiError(assetDir, certRel, err)
	}
	inter := x509.NewCertPool()
	for _, der := range pair.Certificate[1:] {
		if c, err := x509.ParseCertificate(der); err == nil {
			inter.AddCert(c)
		}
	}
	if _, err := leaf.Verify(x509.VerifyOptions{Roots: ca, Intermediates: inter, KeyUsages: []x509.ExtKeyUsage{usage}}); err != nil {
		return pkiError(assetDir, certRel, fmt.Errorf("not valid for %s against its CA: %w", usageName(usage), err))
	}
	return nil
}

func usageName(u x509.ExtKeyUsage) string {
	switch u {
	case x509.ExtKeyUsageServerAuth:
		return "server auth"
	case x509.ExtKeyUsageClientAuth:
		return "client auth"
	}
	return fmt.Sprintf("usage %d", u)
}

// caFingerprint identifies a cluster: the SHA-256 of its first CA certificate.
func caFingerprint(certs []*x509.Certificate) string {
	sum := sha256.Sum256(certs[0].Raw)
	return hex.EncodeToString(sum[:])
}

// checkEtcdPKI validates every file the boot member and the apiserver's etcd
// client use.
func checkEtcdPKI(assetDir string) (fingerprint string, err error) {
	pool, certs, err := loadCA(assetDir, assets.EtcdCACert)
	if err != nil {
		return "", err
	}
	checks := []struct {
		cert, key string
		usage     x509.ExtKeyUsage
	}{
		{assets.EtcdServerCert, assets.EtcdServerKey, x509.ExtKeyUsageServerAuth},
		{assets.EtcdPeerCert, assets.EtcdPeerKey, x509.ExtKeyUsageServerAuth},
		{assets.EtcdPeerCert, assets.EtcdPeerKey, x509.ExtKeyUsageClientAuth},
		{assets.APIServerEtcdClientCert, assets.APIServerEtcdClientKey, x509.ExtKeyUsageClientAuth},
	}
	for _, c := range checks {
		if err := checkPair(assetDir, c.cert, c.key, pool, c.usage); err != nil {
			return "", err
		}
	}
	return caFingerprint(certs), nil
}

// checkAPIServerPKI validates the serving cert against the cluster CA.
func checkAPIServerPKI(assetDir string) error {
	pool, _, err := loadCA(assetDir, assets.CACert)
	if err != nil {
		return err
	}
	return checkPair(assetDir, assets.APIServerCert, assets.APIServerKey, pool, x509.ExtKeyUsageServerAuth)
}
