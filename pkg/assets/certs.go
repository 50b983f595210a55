package assets

import (
	"crypto"
	"crypto/x509"
	"fmt"
	"net"
	"net/netip"
	"net/url"
	"sort"

	"k8s.io/client-go/util/keyutil"

	"github.com/bootstrap-k8s/bootstrap/pkg/apis/bootstrap/v1alpha1"
)

// PKI is every CA and leaf of a cluster, as loaded or created by render.
type PKI struct {
	CA, EtcdCA, FrontProxyCA *KeyPair

	APIServer              *KeyPair
	APIServerKubeletClient *KeyPair
	APIServerEtcdClient    *KeyPair
	FrontProxyClient       *KeyPair
	EtcdServer             *KeyPair
	EtcdPeer               *KeyPair
	EtcdHealthcheckClient  *KeyPair

	// ServiceAccountKey signs service-account tokens.
	ServiceAccountKey crypto.Signer
}

var (
	serverAuth = []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}
	clientAuth = []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}
	peerAuth   = []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth, x509.ExtKeyUsageClientAuth}
)

// ensurePKI loads or creates every certificate in tls/.
func (r *renderer) ensurePKI() (*PKI, error) {
	p := &PKI{}
	var err error
	if p.CA, err = r.ensureCA("tls/ca", "kubernetes-ca"); err != nil {
		return nil, err
	}
	if p.FrontProxyCA, err = r.ensureCA("tls/front-proxy-ca", "front-proxy-ca"); err != nil {
		return nil, err
	}
	if ext := r.cfg.Etcd.External; ext != nil {
		// The external cluster's CA and client certificate replace the etcd PKI.
		if err := r.copyExternalEtcd(p, ext); err != nil {
			return nil, err
		}
	} else if p.EtcdCA, err = r.ensureCA("tls/etcd/ca", "etcd-ca"); err != nil {
		return nil, err
	}
	apiSANs, err := apiServerSANs(r.cfg)
	if err != nil {
		return nil, err
	}
	type leaf struct {
		out  **KeyPair
		ca   *KeyPair
		spec certSpec
	}
	leaves := []leaf{
		{&p.APIServer, p.CA, certSpec{Name: "tls/apiserver", CN: "kube-apiserver", DNS: apiSANs.dns, IPs: apiSANs.ips, Usages: serverAuth}},
		{&p.APIServerKubeletClient, p.CA, certSpec{Name: "tls/apiserver-kubelet-client", CN: APIServerKubeletUser, Usages: clientAuth}},
		{&p.FrontProxyClient, p.FrontProxyCA, certSpec{Name: "tls/front-proxy-client", CN: FrontProxyClientUser, Usages: clientAuth}},
	}
	if r.cfg.Etcd.Local != nil {
		nodeDNS, nodeIPs := etcdSANs(r.cfg)
		leaves = append(leaves,
			leaf{&p.APIServerEtcdClient, p.EtcdCA, certSpec{Name: "tls/apiserver-etcd-client", CN: APIServerEtcdUser, Usages: clientAuth}},
			// ClientAuth too, as kubeadm: etcd's gRPC gateway (/v3/... over
			// HTTPS) dials its own member with the server certificate.
			leaf{&p.EtcdServer, p.EtcdCA, certSpec{Name: "tls/etcd/server", CN: r.cfg.Node.Name, DNS: nodeDNS, IPs: nodeIPs, Usages: peerAuth}},
			leaf{&p.EtcdPeer, p.EtcdCA, certSpec{Name: "tls/etcd/peer", CN: r.cfg.Node.Name, DNS: nodeDNS, IPs: nodeIPs, Usages: peerAuth}},
			leaf{&p.EtcdHealthcheckClient, p.EtcdCA, certSpec{Name: "tls/etcd/healthcheck-client", CN: EtcdHealthcheckUser, Usages: clientAuth}},
		)
	}
	for _, l := range leaves {
		if *l.out, err = r.ensureLeaf(l.ca, l.spec); err != nil {
			return nil, err
		}
	}
	if p.ServiceAccountKey, err = r.ensureServiceAccountKey(); err != nil {
		return nil, err
	}
	return p, nil
}

// ensureServiceAccountKey keeps the token-signing key across renders: a new
// key would invalidate every service-account token in the cluster.
func (r *renderer) ensureServiceAccountKey() (crypto.Signer, error) {
	keyData, err := r.readFile(ServiceAccountKey)
	if err != nil {
		return nil, err
	}
	pubData, err := r.readFile(ServiceAccountPub)
	if err != nil {
		return nil, err
	}
	var key crypto.Signer
	if keyData == nil {
		if pubData != nil {
			return nil, fmt.Errorf("%s exists but %s is missing: restore the key from a backup, or move the public key aside to create a new pair (existing service-account tokens then stop working)", ServiceAccountPub, ServiceAccountKey)
		}
		if key, err = r.issuer.newKey(); err != nil {
			return nil, err
		}
		r.logf("[certs] Generating %s", ServiceAccountKey)
		pem, err := keyutil.MarshalPrivateKeyToPEM(key)
		if err != nil {
			return nil, err
		}
		if err := r.writeFile(ServiceAccountKey, pem, 0o600); err != nil {
			return nil, err
		}
	} else {
		if key, err = parseSigner(keyData); err != nil {
			return nil, fmt.Errorf("%s is not a PEM private key (%v): move it aside or restore it", ServiceAccountKey, err)
		}
		r.logf("[certs] Using existing %s", ServiceAccountKey)
	}
	pub, err := encodePublicKey(key.Public())
	if err != nil {
		return nil, err
	}
	if pubData != nil {
		keys, err := keyutil.ParsePublicKeysPEM(pubData)
		if err != nil || len(keys) == 0 || !publicKeysEqual(keys[0], key.Public()) {
			return nil, fmt.Errorf("%s does not match %s: restore the matching pair from a backup", ServiceAccountPub, ServiceAccountKey)
		}
		return key, nil
	}
	return key, r.writeFile(ServiceAccountPub, pub, 0o644)
}

type sans struct {
	dns []string
	ips []net.IP
}

func (s *sans) add(name string) {
	if ip := net.ParseIP(name); ip != nil {
		for _, have := range s.ips {
			if have.Equal(ip) {
				return
			}
		}
		s.ips = append(s.ips, ip)
		return
	}
	for _, have := range s.dns {
		if have == name {
			return
		}
	}
	s.dns = append(s.dns, name)
}

// apiServerSANs lists every name a client may use to reach the apiserver.
func apiServerSANs(cfg *v1alpha1.BootstrapConfiguration) (sans, error) {
	var s sans
	first, err := ServiceIP(cfg.Networking.ServiceCIDR, 1)
	if err != nil {
		return s, err
	}
	s.add(cfg.APIServer.AdvertiseAddress)
	s.add(first.String())
	s.add("127.0.0.1")
	if u, err := url.Parse(cfg.APIServer.ExternalURL); err == nil && u.Hostname() != "" {
		s.add(u.Hostname())
	}
	if host, _, err := v1alpha1.ControlPlaneEndpointHostPort(&cfg.APIServer); err == nil && cfg.APIServer.ControlPlaneEndpoint != "" {
		s.add(host)
	}
	for _, n := range cfg.APIServer.ExtraSANs {
		s.add(n)
	}
	for _, n := range []string{"kubernetes", "kubernetes.default", "kubernetes.default.svc",
		"kubernetes.default.svc." + cfg.Networking.DNSDomain, "localhost", cfg.Node.Name} {
		s.add(n)
	}
	sort.Strings(s.dns)
	return s, nil
}

// etcdSANs lists the names the etcd member answers to.
func etcdSANs(cfg *v1alpha1.BootstrapConfiguration) ([]string, []net.IP) {
	var s sans
	s.add(cfg.Node.Name)
	s.add("localhost")
	s.add(cfg.APIServer.AdvertiseAddress)
	s.add("127.0.0.1")
	s.add("::1")
	return s.dns, s.ips
}

// ServiceIP returns the n-th address of a service CIDR: 1 is the
// `kubernetes` service, 10 is cluster DNS.
func ServiceIP(cidr string, n int) (netip.Addr, error) {
	p, err := netip.ParsePrefix(cidr)
	if err != nil {
		return netip.Addr{}, fmt.Errorf("service CIDR %q: %w", cidr, err)
	}
	a := p.Masked().Addr()
	for i := 0; i < n; i++ {
		a = a.Next()
	}
	if !p.Contains(a) {
		return netip.Addr{}, fmt.Errorf("service CIDR %q has no %d-th address", cidr, n)
	}
	return a, nil
}

func encodePublicKey(pub crypto.PublicKey) ([]byte, error) {
	der, err := x509.MarshalPKIXPublicKey(pub)
	if err != nil {
		return nil, err
	}
	return pemBlock("PUBLIC KEY", der), nil
}
