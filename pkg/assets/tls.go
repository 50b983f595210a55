package assets

import (
	"bytes"
	"crypto"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"os"
	"slices"
	"sort"
	"strings"
	"time"

	certutil "k8s.io/client-go/util/cert"
	"k8s.io/client-go/util/keyutil"
)

// renewBefore is how close to expiry an existing leaf may be before render
// re-issues it instead of reusing it.
const renewBefore = 30 * 24 * time.Hour

// ensureCA loads the CA stored at name (.crt/.key) or creates it when neither
// file exists. An existing CA is never replaced: every certificate of the
// cluster chains to it, and losing a CA key is what made bootkube clusters
// unrecoverable.
func (r *renderer) ensureCA(name, cn string) (*KeyPair, error) {
	crtPath, keyPath := name+".crt", name+".key"
	crt, key, err := r.readPair(crtPath, keyPath)
	if err != nil {
		return nil, err
	}
	switch {
	case crt == nil && key == nil:
		kp, err := r.issuer.newCA(cn)
		if err != nil {
			return nil, err
		}
		r.logf("[certs] Generating %s (CA %q)", crtPath, cn)
		return kp, r.writePair(name, kp)
	case crt == nil:
		return nil, fmt.Errorf("%s exists but %s is missing: restore the certificate from a backup, or move %s aside to create a new CA (every certificate will then be re-issued)", r.rel(keyPath), r.rel(crtPath), r.rel(keyPath))
	case key == nil:
		return nil, fmt.Errorf("%s exists but its private key %s is missing: render keeps every CA key; restore it from a backup, or move %s aside to create a new CA (every certificate will then be re-issued)", r.rel(crtPath), r.rel(keyPath), r.rel(crtPath))
	}
	if !crt.IsCA {
		return nil, fmt.Errorf("%s is not a CA certificate: move it aside or restore the right file", r.rel(crtPath))
	}
	if !publicKeysEqual(crt.PublicKey, key.Public()) {
		return nil, fmt.Errorf("%s does not match its certificate %s: restore the matching pair from a backup", r.rel(keyPath), r.rel(crtPath))
	}
	if r.issuer.now.After(crt.NotAfter) {
		return nil, fmt.Errorf("CA %s expired on %s: rotating a CA is a cluster-wide operation render does not do", r.rel(crtPath), crt.NotAfter.Format(time.RFC3339))
	}
	r.logf("[certs] Using existing CA %s", crtPath)
	return &KeyPair{Cert: crt, Key: key}, nil
}

// ensureLeaf keeps an existing leaf while it satisfies spec and chains to ca,
// and issues a new one otherwise. A pair that contradicts itself or the CA is
// refused: it means the asset dir holds files render did not write.
func (r *renderer) ensureLeaf(ca *KeyPair, spec certSpec) (*KeyPair, error) {
	crtPath, keyPath := spec.Name+".crt", spec.Name+".key"
	crt, key, err := r.readPair(crtPath, keyPath)
	if err != nil {
		return nil, err
	}
	if crt == nil && key == nil {
		r.logf("[certs] Generating %s", crtPath)
		return r.issueLeaf(ca, spec)
	}
	if crt == nil || key == nil {
		return nil, fmt.Errorf("only one of %s and %s exists: move the other one aside or restore it, then re-run", r.rel(crtPath), r.rel(keyPath))
	}
	kp := &KeyPair{Cert: crt, Key: key}
	if err := r.checkPair(ca, kp, crtPath, keyPath); err != nil {
		return nil, err
	}
	if why := r.mismatch(kp, spec); why != "" {
		r.logf("[certs] Regenerating %s: %s", crtPath, why)
		return r.issueLeaf(ca, spec)
	}
	r.logf("[certs] Using existing %s", crtPath)
	return kp, nil
}

func (r *renderer) issueLeaf(ca *KeyPair, spec certSpec) (*KeyPair, error) {
	kp, err := r.issuer.issue(ca, spec)
	if err != nil {
		return nil, err
	}
	return kp, r.writePair(spec.Name, kp)
}

// checkPair refuses a key that is not the certificate's, or a certificate
// that the CA did not sign.
func (r *renderer) checkPair(ca, kp *KeyPair, crtPath, keyPath string) error {
	if !publicKeysEqual(kp.Cert.PublicKey, kp.Key.Public()) {
		return fmt.Errorf("%s does not match its certificate %s: move both aside to have render issue a new pair", r.rel(keyPath), r.rel(crtPath))
	}
	if err := kp.Cert.CheckSignatureFrom(ca.Cert); err != nil {
		return fmt.Errorf("%s is not signed by the CA %q in this asset dir: it belongs to another cluster; move it (and its key) aside to have render issue a new one", r.rel(crtPath), ca.Cert.Subject.CommonName)
	}
	return nil
}

// mismatch says why an existing leaf no longer satisfies spec, or "".
func (r *renderer) mismatch(kp *KeyPair, spec certSpec) string {
	if r.renewing {
		if r.renew[spec.Name] {
			return "renewal requested"
		}
		return ""
	}
	c := kp.Cert
	switch {
	case c.Subject.CommonName != spec.CN:
		return fmt.Sprintf("common name %q, want %q", c.Subject.CommonName, spec.CN)
	case !sameStrings(c.Subject.Organization, spec.Orgs):
		return fmt.Sprintf("organizations %v, want %v", c.Subject.Organization, spec.Orgs)
	case !sameStrings(c.DNSNames, spec.DNS):
		return fmt.Sprintf("DNS names %v, want %v", c.DNSNames, spec.DNS)
	case !sameStrings(ipStrings(c.IPAddresses), ipStrings(spec.IPs)):
		return fmt.Sprintf("IP addresses %v, want %v", ipStrings(c.IPAddresses), ipStrings(spec.IPs))
	case !slices.Equal(sortedUsages(c.ExtKeyUsage), sortedUsages(spec.Usages)):
		return "key usages changed"
	case !r.issuer.keyMatchesAlgorithm(c.PublicKey):
		return fmt.Sprintf("key algorithm is not %s", r.issuer.alg)
	case c.NotAfter.Sub(r.issuer.now) < renewBefore:
		return fmt.Sprintf("expires %s", c.NotAfter.Format(time.RFC3339))
	}
	return ""
}

// readPair reads a PEM certificate and key; a missing file yields nil.
func (r *renderer) readPair(crtPath, keyPath string) (*x509.Certificate, crypto.Signer, error) {
	var crt *x509.Certificate
	var key crypto.Signer
	if data, err := r.readFile(crtPath); err != nil {
		return nil, nil, err
	} else if data != nil {
		certs, err := certutil.ParseCertsPEM(data)
		if err != nil {
			return nil, nil, fmt.Errorf("%s is not a PEM certificate (%v): move it aside or restore it", r.rel(crtPath), err)
		}
		crt = certs[0]
	}
	if data, err := r.readFile(keyPath); err != nil {
		return nil, nil, err
	} else if data != nil {
		k, err := parseSigner(data)
		if err != nil {
			return nil, nil, fmt.Errorf("%s is not a PEM private key (%v): move it aside or restore it", r.rel(keyPath), err)
		}
		key = k
	}
	return crt, key, nil
}

func (r *renderer) writePair(name string, kp *KeyPair) error {
	keyPEM, err := keyutil.MarshalPrivateKeyToPEM(kp.Key)
	if err != nil {
		return err
	}
	if err := r.writeFile(name+".key", keyPEM, 0o600); err != nil {
		return err
	}
	return r.writeFile(name+".crt", encodeCert(kp.Cert), 0o644)
}

// readFile returns nil, nil for a file that does not exist; a file this
// render staged reads as staged.
func (r *renderer) readFile(rel string) ([]byte, error) {
	for _, f := range r.staged {
		if f.Path == rel {
			return f.Data, nil
		}
	}
	data, err := os.ReadFile(Path(r.dir, rel))
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	return data, err
}

func parseSigner(data []byte) (crypto.Signer, error) {
	k, err := keyutil.ParsePrivateKeyPEM(data)
	if err != nil {
		return nil, err
	}
	s, ok := k.(crypto.Signer)
	if !ok {
		return nil, fmt.Errorf("unsupported private key type %T", k)
	}
	return s, nil
}

func encodeCert(c *x509.Certificate) []byte {
	data, _ := certutil.EncodeCertificates(c)
	return data
}

func publicKeysEqual(a, b crypto.PublicKey) bool {
	ea, err1 := x509.MarshalPKIXPublicKey(a)
	eb, err2 := x509.MarshalPKIXPublicKey(b)
	return err1 == nil && err2 == nil && bytes.Equal(ea, eb)
}

func sameStrings(a, b []string) bool {
	a, b = slices.Clone(a), slices.Clone(b)
	sort.Strings(a)
	sort.Strings(b)
	return strings.Join(a, "\x00") == strings.Join(b, "\x00")
}

func ipStrings(ips []net.IP) []string {
	out := make([]string, 0, len(ips))
	for _, ip := range ips {
		out = append(out, ip.String())
	}
	return out
}

func sortedUsages(u []x509.ExtKeyUsage) []x509.ExtKeyUsage {
	u = slices.Clone(u)
	slices.Sort(u)
	return u
}
