package assets

import (
	"fmt"

	"path/filepath"
	"time"

	"k8s.io/client-go/util/keyutil"

	"github.com/bootstrap-k8s/bootstrap/pkg/apis/bootstrap/v1alpha1"
	"github.com/bootstrap-k8s/bootstrap/pkg/endpoints"
)

// EtcdMemberFiles are what one more control-plane node needs to run its own
// etcd member: the files for etcd.local.certDir (base name → content; keys
// are to be written 0600) and the static pod manifest.
type EtcdMemberFiles struct {
	CertFiles map[string][]byte
	Manifest  []byte
}

// EtcdMember issues the etcd server and peer certificates of the node
// nodeName at address with the etcd CA of assetDir and renders its etcd
// static pod, which joins initialCluster (name=peerURL,..., the node
// included) as an existing cluster. cfg is the cluster's configuration
// (assetDir's bootstrap-config.yaml); only the node name and address
// differ. Nothing is written: the caller installs the files on the node.
func EtcdMember(cfg *v1alpha1.BootstrapConfiguration, assetDir, nodeName, address, initialCluster string, now time.Time) (*EtcdMemberFiles, error) {
	if cfg.Etcd.Local == nil {
		return nil, fmt.Errorf("the cluster uses external etcd: a control-plane node then runs no etcd member")
	}
	node := *cfg
	node.APIServer.AdvertiseAddress = address
	node.Node.Name = nodeName
	r := &renderer{cfg: &node, dir: assetDir, logf: func(string, ...any) {}, result: &Result{},
		issuer: issuer{alg: cfg.Certificates.KeyAlgorithm, caValidity: cfg.Certificates.CAValidity.Duration, validity: cfg.Certificates.Validity.Duration, now: now}}
	crt, key, err := r.readPair(EtcdCACert, EtcdCAKey)
	if err != nil {
		return nil, err
	}
	if crt == nil || key == nil || !crt.IsCA || !publicKeysEqual(crt.PublicKey, key.Public()) {
		return nil, fmt.Errorf("%s has no usable etcd CA (%s with its key %s): pass the asset dir `bootstrap render` wrote for this cluster", assetDir, EtcdCACert, EtcdCAKey)
	}
	ca := &KeyPair{Cert: crt, Key: key}
	dns, ips := etcdSANs(&node)
	files := map[string][]byte{"ca.crt": encodeCert(ca.Cert)}
	for _, leaf := range []string{"server", "peer"} {
		kp, err := r.issuer.issue(ca, certSpec{Name: "tls/etcd/" + leaf, CN: nodeName, DNS: dns, IPs: ips, Usages: peerAuth})
		if err != nil {
			return nil, err
		}
		pem, err := keyutil.MarshalPrivateKeyToPEM(kp.Key)
		if err != nil {
			return nil, err
		}
		files[leaf+".crt"], files[leaf+".key"] = encodeCert(kp.Cert), pem
	}
	// The health-check client is the same on every node.
	for _, rel := range []string{EtcdHealthcheckCert, EtcdHealthcheckKey} {
		data, err := r.readFile(rel)
		if err != nil || data == nil {
			return nil, fmt.Errorf("reading %s from the asset dir: %v", rel, err)
		}
		files[filepath.Base(rel)] = data
	}
	manifest, err := EncodeYAML(r.etcdMemberPod(initialCluster))
	if err != nil {
		return nil, err
	}
	return &EtcdMemberFiles{CertFiles: files, Manifest: manifest}, nil
}

// EtcdPeerURL is the peer URL of the member at address.
func EtcdPeerURL(cfg *v1alpha1.BootstrapConfiguration, address string) string {
	return endpoints.HTTPS(address, cfg.Etcd.Local.PeerPort)
}

// EtcdClientURL is the client URL of the member at address.
func EtcdClientURL(cfg *v1alpha1.BootstrapConfiguration, address string) string {
	return endpoints.HTTPS(address, cfg.Etcd.Local.ClientPort)
}
