package assets

import (
	"fmt"
	"os"

	certutil "k8s.io/client-go/util/cert"

	"github.com/bootstrap-k8s/bootstrap/pkg/apis/bootstrap/v1alpha1"
)

// copyExternalEtcd copies an external etcd cluster's CA and client
// certificate into the asset dir, so that the asset dir alone describes the
// cluster. There is no etcd CA key: bootstrap does not manage that etcd.
func (r *renderer) copyExternalEtcd(p *PKI, ext *v1alpha1.ExternalEtcd) error {
	read := func(field, path string) ([]byte, error) {
		data, err := os.ReadFile(path)
		if err != nil {
			return nil, fmt.Errorf("etcd.external.%s: %w", field, err)
		}
		return data, nil
	}
	caPEM, err := read("caFile", ext.CAFile)
	if err != nil {
		return err
	}
	crtPEM, err := read("certFile", ext.CertFile)
	if err != nil {
		return err
	}
	keyPEM, err := read("keyFile", ext.KeyFile)
	if err != nil {
		return err
	}
	cas, err := certutil.ParseCertsPEM(caPEM)
	if err != nil {
		return fmt.Errorf("etcd.external.caFile %s: %w", ext.CAFile, err)
	}
	crts, err := certutil.ParseCertsPEM(crtPEM)
	if err != nil {
		return fmt.Errorf("etcd.external.certFile %s: %w", ext.CertFile, err)
	}
	key, err := parseSigner(keyPEM)
	if err != nil {
		return fmt.Errorf("etcd.external.keyFile %s: %w", ext.KeyFile, err)
	}
	p.EtcdCA = &KeyPair{Cert: cas[0]}
	p.APIServerEtcdClient = &KeyPair{Cert: crts[0], Key: key}
	if err := r.checkPair(p.EtcdCA, p.APIServerEtcdClient, ext.CertFile, ext.KeyFile); err != nil {
		return err
	}
	for rel, data := range map[string][]byte{EtcdCACert: caPEM, APIServerEtcdClientCert: crtPEM} {
		if err := r.writeFile(rel, data, 0o644); err != nil {
			return err
		}
	}
	r.logf("[certs] Using external etcd CA and client certificate from %s", ext.CertFile)
	return r.writeFile(APIServerEtcdClientKey, keyPEM, 0o600)
}
