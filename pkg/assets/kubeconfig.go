package assets

import (
	"bytes"
	"crypto/rand"
	"fmt"
	"math/big"
	"regexp"

	"k8s.io/client-go/tools/clientcmd"
	clientcmdapi "k8s.io/client-go/tools/clientcmd/api"
	certutil "k8s.io/client-go/util/cert"
	"k8s.io/client-go/util/keyutil"
)

// kubeconfigSpec is one kubeconfig with a client certificate.
type kubeconfigSpec struct {
	Path string
	User string
	Orgs []string
	// Local components (controller-manager, scheduler) run beside
	// kube-apiserver on every control-plane node and reach it on loopback,
	// which the temporary apiserver never serves (LoopbackURL).
	Local bool
}

// server is the URL a kubeconfig of spec s points at.
func (r *renderer) server(s kubeconfigSpec) string {
	if s.Local {
		return LoopbackURL(r.cfg)
	}
	return r.cfg.APIServer.ExternalURL
}

// Kubeconfigs is what render wrote to auth/, in memory for manifests that
// embed them (the component Secrets).
type Kubeconfigs struct {
	ControllerManager []byte
	Scheduler         []byte
	KubeProxy         []byte
	BootstrapToken    string
}

// KubeProxyKubeconfig is kube-proxy's kubeconfig, also shipped as a Secret.
const KubeProxyKubeconfig = "auth/kube-proxy.kubeconfig"

func (r *renderer) kubeconfigSpecs() []kubeconfigSpec {
	return []kubeconfigSpec{
		{Path: AdminKubeconfig, User: AdminUser, Orgs: []string{AdminGroup}},
		{Path: SuperAdminKubeconfig, User: SuperAdminUser, Orgs: []string{MastersGroup}},
		{Path: KubeletKubeconfig, User: "system:node:" + r.cfg.Node.Name, Orgs: []string{NodesGroup}},
		{Path: ControllerManagerKubeconfig, User: ControllerManagerUser, Local: true},
		{Path: SchedulerKubeconfig, User: SchedulerUser, Local: true},
		{Path: KubeProxyKubeconfig, User: KubeProxyUser},
	}
}

// ensureKubeconfigs writes every kubeconfig, keeping the client certificate of
// an existing one while it still satisfies its spec.
func (r *renderer) ensureKubeconfigs(p *PKI) (*Kubeconfigs, error) {
	out := &Kubeconfigs{}
	caPEM := encodeCert(p.CA.Cert)
	for _, s := range r.kubeconfigSpecs() {
		kp, err := r.kubeconfigClientCert(p.CA, s)
		if err != nil {
			return nil, err
		}
		keyPEM, err := keyutil.MarshalPrivateKeyToPEM(kp.Key)
		if err != nil {
			return nil, err
		}
		data, err := r.kubeconfig(caPEM, r.server(s), s.User, &clientcmdapi.AuthInfo{ClientCertificateData: encodeCert(kp.Cert), ClientKeyData: keyPEM})
		if err != nil {
			return nil, err
		}
		if err := r.writeFile(s.Path, data, 0o600); err != nil {
			return nil, err
		}
		switch s.Path {
		case ControllerManagerKubeconfig:
			out.ControllerManager = data
		case SchedulerKubeconfig:
			out.Scheduler = data
		case KubeProxyKubeconfig:
			out.KubeProxy = data
		}
	}
	token, err := r.bootstrapToken()
	if err != nil {
		return nil, err
	}
	data, err := r.kubeconfig(caPEM, r.cfg.APIServer.ExternalURL, "kubelet-bootstrap", &clientcmdapi.AuthInfo{Token: token})
	if err != nil {
		return nil, err
	}
	out.BootstrapToken = token
	return out, r.writeFile(BootstrapKubeletKubeconfig, data, 0o600)
}

func (r *renderer) kubeconfig(caPEM []byte, server, user string, auth *clientcmdapi.AuthInfo) ([]byte, error) {
	name := r.cfg.ClusterName
	ctx := user + "@" + name
	c := clientcmdapi.NewConfig()
	c.Clusters[name] = &clientcmdapi.Cluster{Server: server, CertificateAuthorityData: caPEM}
	c.AuthInfos[user] = auth
	c.Contexts[ctx] = &clientcmdapi.Context{Cluster: name, AuthInfo: user}
	c.CurrentContext = ctx
	return clientcmd.Write(*c)
}

// kubeconfigClientCert returns the client certificate of an existing
// kubeconfig when it still fits, or issues a new one.
func (r *renderer) kubeconfigClientCert(ca *KeyPair, s kubeconfigSpec) (*KeyPair, error) {
	spec := certSpec{Name: s.Path, CN: s.User, Orgs: s.Orgs, Usages: clientAuth}
	data, err := r.readFile(s.Path)
	if err != nil {
		return nil, err
	}
	if data == nil {
		r.logf("[kubeconfig] Writing %s", s.Path)
		return r.issuer.issue(ca, spec)
	}
	cfg, err := clientcmd.Load(data)
	if err != nil {
		return nil, fmt.Errorf("%s is not a kubeconfig (%v): move it aside and re-run", s.Path, err)
	}
	ctx := cfg.Contexts[cfg.CurrentContext]
	var auth *clientcmdapi.AuthInfo
	if ctx != nil {
		auth = cfg.AuthInfos[ctx.AuthInfo]
	}
	if auth == nil || len(auth.ClientCertificateData) == 0 || len(auth.ClientKeyData) == 0 {
		return nil, fmt.Errorf("%s has no embedded client certificate: it was not written by render; move it aside and re-run", s.Path)
	}
	certs, err := certutil.ParseCertsPEM(auth.ClientCertificateData)
	if err != nil {
		return nil, fmt.Errorf("%s: client certificate: %v", s.Path, err)
	}
	key, err := parseSigner(auth.ClientKeyData)
	if err != nil {
		return nil, fmt.Errorf("%s: client key: %v", s.Path, err)
	}
	kp := &KeyPair{Cert: certs[0], Key: key}
	if err := r.checkPair(ca, kp, s.Path+" (client certificate)", s.Path+" (client key)"); err != nil {
		return nil, err
	}
	if why := r.mismatch(kp, spec); why != "" {
		r.logf("[kubeconfig] Regenerating %s: %s", s.Path, why)
		return r.issuer.issue(ca, spec)
	}
	cluster := cfg.Clusters[ctx.Cluster]
	if cluster == nil || cluster.Server != r.server(s) || !bytes.Equal(cluster.CertificateAuthorityData, encodeCert(ca.Cert)) {
		r.logf("[kubeconfig] Updating %s: server or CA changed", s.Path)
	} else {
		r.logf("[kubeconfig] Using existing %s", s.Path)
	}
	return kp, nil
}

var tokenRE = regexp.MustCompile(`^([a-z0-9]{6})\.([a-z0-9]{16})$`)

// bootstrapToken reuses the token of an existing bootstrap kubeconfig, so
// that re-rendering does not invalidate join instructions already handed out.
func (r *renderer) bootstrapToken() (string, error) {
	data, err := r.readFile(BootstrapKubeletKubeconfig)
	if err != nil {
		return "", err
	}
	if data != nil {
		if cfg, err := clientcmd.Load(data); err == nil {
			for _, a := range cfg.AuthInfos {
				if tokenRE.MatchString(a.Token) {
					return a.Token, nil
				}
			}
		}
		return "", fmt.Errorf("%s holds no bootstrap token: move it aside and re-run to create a new token", BootstrapKubeletKubeconfig)
	}
	id, err := randomString(6)
	if err != nil {
		return "", err
	}
	secret, err := randomString(16)
	if err != nil {
		return "", err
	}
	return id + "." + secret, nil
}

func randomString(n int) (string, error) {
	const alphabet = "abcdefghijklmnopqrstuvwxyz0123456789"
	b := make([]byte, n)
	for i := range b {
		v, err := rand.Int(rand.Reader, big.NewInt(int64(len(alphabet))))
		if err != nil {
			return "", err
		}
		b[i] = alphabet[v.Int64()]
	}
	return string(b), nil
}

// kubeconfigWithoutUser is the cluster entry alone (server URL and CA), as
// the cluster-info ConfigMap publishes it.
func (r *renderer) kubeconfigWithoutUser(caPEM []byte) ([]byte, error) {
	c := clientcmdapi.NewConfig()
	c.Clusters[r.cfg.ClusterName] = &clientcmdapi.Cluster{Server: r.cfg.APIServer.ExternalURL, CertificateAuthorityData: caPEM}
	return clientcmd.Write(*c)
}
