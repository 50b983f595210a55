package certs

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/clientcmd"
	certutil "k8s.io/client-go/util/cert"

	"github.com/bootstrap-k8s/bootstrap/pkg/apis/bootstrap/v1alpha1"
	"github.com/bootstrap-k8s/bootstrap/pkg/assets"
	"github.com/bootstrap-k8s/bootstrap/pkg/endpoints"
	"github.com/bootstrap-k8s/bootstrap/pkg/etcdutil"
	"github.com/bootstrap-k8s/bootstrap/pkg/tlsprobe"
)

// Options say which cluster to look at.
type Options struct {
	AssetDir string
	// Config is the asset dir's configuration when the caller loaded it
	// (nil: read from the asset dir).
	Config *v1alpha1.BootstrapConfiguration
	// KubeletDir is the kubelet's root dir on this node (its pki/ holds the
	// rotated certificates); default /var/lib/kubelet.
	KubeletDir string
	// Warn: a certificate expiring within this is flagged (default 30 days).
	Warn time.Duration
	// Timeout bounds each network step (default 5s).
	Timeout time.Duration
	Now     func() time.Time
}

// Default values of Options.
const (
	DefaultKubeletDir = "/var/lib/kubelet"
	DefaultWarn       = 30 * 24 * time.Hour
	DefaultTimeout    = 5 * time.Second
)

func (o *Options) defaults() {
	if o.KubeletDir == "" {
		o.KubeletDir = DefaultKubeletDir
	}
	if o.Warn <= 0 {
		o.Warn = DefaultWarn
	}
	if o.Timeout <= 0 {
		o.Timeout = DefaultTimeout
	}
	if o.Now == nil {
		o.Now = time.Now
	}
}

// Sources of a listed certificate.
const (
	SourceAssetDir = "asset-dir"
	SourceSecret   = "secret"
	SourceNode     = "node"
	SourceServed   = "served"
)

// Cert is one certificate found somewhere.
type Cert struct {
	Name     string    `json:"name"`
	Source   string    `json:"source"`
	Location string    `json:"location"`
	Subject  string    `json:"subject,omitempty"`
	Issuer   string    `json:"issuer,omitempty"`
	Serial   string    `json:"serial,omitempty"`
	NotAfter time.Time `json:"notAfter,omitempty"`
	// ResidualSeconds is the time left until NotAfter (negative: expired).
	ResidualSeconds int64 `json:"residualSeconds"`
	CA              bool  `json:"ca,omitempty"`
	// Renewal says how this certificate is renewed.
	Renewal string `json:"renewal"`
	// Warning: expires within the threshold, expired, or a copy that
	// differs from the asset dir's (not rolled out).
	Warning string `json:"warning,omitempty"`
	// Error: it could not be read.
	Error string `json:"error,omitempty"`
	Note  string `json:"note,omitempty"`

	crt *x509.Certificate
}

// Listing is every certificate found, and what could not be looked at.
type Listing struct {
	Certs []Cert `json:"certificates"`
	// Skipped says which sources were not read, and why (no API, not root).
	Skipped []string `json:"skipped,omitempty"`
}

// Warnings are the certificates with a warning.
func (l *Listing) Warnings() []Cert {
	var out []Cert
	for _, c := range l.Certs {
		if c.Warning != "" {
			out = append(out, c)
		}
	}
	return out
}

// List finds every certificate of the asset dir's cluster: the asset dir's
// CAs and leaves, the control-plane Secrets' copies, the etcd member's files,
// the kubelet's rotated certificates, and what kube-apiserver, etcd and the
// kubelets serve.
func List(ctx context.Context, o Options) (*Listing, error) {
	o.defaults()
	cfg, err := loadConfig(o)
	if err != nil {
		return nil, err
	}
	l := &Listing{}
	add := func(c Cert) { l.Certs = append(l.Certs, o.judge(c)) }
	assetSerial := map[string]string{}
	caByKey := map[string]*x509.Certificate{}
	for _, c := range cas(cfg) {
		crt, _ := fromFile(c.Name, SourceAssetDir, assets.Path(o.AssetDir, c.Asset+".crt"), "CA: rotated by hand (docs/operations.md)", c.Note)
		add(crt)
		caByKey[c.Asset+".key"] = crt.crt
	}
	// issuers: the CA each leaf (and what serves it) must chain to.
	issuers := map[string]*x509.Certificate{"kubelet-serving": caByKey[assets.CAKey], "kubelet-client": caByKey[assets.CAKey]}
	for _, lf := range leaves(cfg) {
		issuers[lf.Name] = caByKey[lf.CAKey]
	}
	for _, lf := range leaves(cfg) {
		crt, err := assetCert(o.AssetDir, lf)
		c := Cert{Name: lf.Name, Source: SourceAssetDir, Location: assets.Path(o.AssetDir, lf.certFile()), Renewal: "bootstrap certs renew " + lf.Name, Note: lf.Note}
		fill(&c, crt, err)
		if crt != nil {
			assetSerial[lf.Name] = c.Serial
		}
		add(c)
	}
	// The etcd member's copies on this node.
	if cfg.Etcd.Local != nil {
		for _, lf := range leaves(cfg) {
			if lf.etcd() {
				c, err := fromFile(lf.Name, SourceNode, filepath.Join(cfg.Etcd.Local.CertDir, lf.NodeFile), "bootstrap certs renew "+lf.Name, "etcd static pod reads it")
				if errors.Is(err, os.ErrNotExist) || errors.Is(err, os.ErrPermission) {
					l.Skipped = append(l.Skipped, fmt.Sprintf("%s: %v (run on the control-plane node as root)", c.Location, err))
					continue
				}
				add(stale(c, assetSerial, issuers))
			}
		}
		ec, err := etcdutil.Config(o.AssetDir)
		if err == nil {
			for name, ep := range map[string]string{"etcd-server": endpoints.EtcdClient(cfg), "etcd-peer": endpoints.EtcdPeer(cfg)} {
				add(stale(o.served(ctx, name, hostOf(ep), ec.TLS, "bootstrap certs renew "+name), assetSerial, issuers))
			}
		}
	}
	// The kubelet's own certificates on this node.
	for _, f := range []struct{ name, file string }{{"kubelet-client", "kubelet-client-current.pem"}, {"kubelet-serving", "kubelet-server-current.pem"}} {
		c, err := fromFile(f.name, SourceNode, filepath.Join(o.KubeletDir, "pki", f.file), "rotated by the kubelet (rotateCertificates / serverTLSBootstrap)", "")
		if err != nil {
			l.Skipped = append(l.Skipped, fmt.Sprintf("%s: %v (give --kubelet-dir; run on the node as root)", c.Location, err))
			continue
		}
		add(stale(c, assetSerial, issuers))
	}
	// What the API shows: the Secrets, and what every node serves.
	cs, err := client(o.AssetDir)
	if err == nil {
		err = o.fromCluster(ctx, cs, cfg, assetSerial, issuers, add)
	}
	if err != nil {
		l.Skipped = append(l.Skipped, "the control-plane Secrets and the servers of the nodes: "+err.Error())
	}
	return l, nil
}

// fromCluster adds the Secrets' copies and the certificates kube-apiserver
// and the kubelets serve on every node.
func (o Options) fromCluster(ctx context.Context, cs kubernetes.Interface, cfg *v1alpha1.BootstrapConfiguration, assetSerial map[string]string, issuers map[string]*x509.Certificate, add func(Cert)) error {
	lctx, cancel := context.WithTimeout(ctx, o.Timeout)
	defer cancel()
	nodes, err := cs.CoreV1().Nodes().List(lctx, metav1.ListOptions{})
	if err != nil {
		return fmt.Errorf("the API does not answer: %v", err)
	}
	secrets := map[string]*corev1.Secret{}
	for _, lf := range leaves(cfg) {
		if lf.Secret == "" {
			continue
		}
		s, ok := secrets[lf.Secret]
		if !ok {
			s, err = cs.CoreV1().Secrets(assets.KubeSystem).Get(lctx, lf.Secret, metav1.GetOptions{})
			if err != nil {
				add(Cert{Name: lf.Name, Source: SourceSecret, Location: assets.KubeSystem + "/" + lf.Secret, Error: err.Error()})
				continue
			}
			secrets[lf.Secret] = s
		}
		c := Cert{Name: lf.Name, Source: SourceSecret, Location: fmt.Sprintf("Secret %s/%s [%s]", assets.KubeSystem, lf.Secret, lf.SecretKey),
			Renewal: "bootstrap certs renew " + lf.Name, Note: lf.Note}
		crt, err := parseSecretCert(s.Data[lf.SecretKey], lf.kubeconfig())
		fill(&c, crt, err)
		add(stale(c, assetSerial, issuers))
	}
	for i := range nodes.Items {
		n := &nodes.Items[i]
		addr := nodeIP(n)
		if addr == "" {
			continue
		}
		if _, cp := n.Labels[assets.ControlPlaneNodeLabel]; cp {
			add(stale(o.served(ctx, "apiserver", net.JoinHostPort(addr, strconv.Itoa(int(cfg.APIServer.BindPort))), nil, "bootstrap certs renew apiserver"), assetSerial, issuers))
		}
		if port := n.Status.DaemonEndpoints.KubeletEndpoint.Port; port > 0 {
			c := o.served(ctx, "kubelet-serving", net.JoinHostPort(addr, strconv.Itoa(int(port))), nil, "rotated by the kubelet (serverTLSBootstrap; bootstrap csr-approver approves)")
			c.Note = "node " + n.Name
			add(stale(c, assetSerial, issuers))
		}
	}
	return nil
}

func (o Options) served(ctx context.Context, name, hostport string, base *tls.Config, renewal string) Cert {
	c := Cert{Name: name, Source: SourceServed, Location: hostport, Renewal: renewal}
	crt, err := tlsprobe.Served(ctx, hostport, base, o.Timeout)
	fill(&c, crt, err)
	return c
}

// judge flags expiry.
func (o Options) judge(c Cert) Cert {
	if c.Error != "" || c.NotAfter.IsZero() {
		return c
	}
	left := c.NotAfter.Sub(o.Now())
	c.ResidualSeconds = int64(left.Seconds())
	switch {
	case left <= 0:
		c.Warning = joinWarn("EXPIRED", c.Warning)
	case left < o.Warn:
		c.Warning = joinWarn(fmt.Sprintf("expires in %s (under the warning threshold %s)", days(left), days(o.Warn)), c.Warning)
	}
	return c
}

func joinWarn(a, b string) string {
	if b == "" {
		return a
	}
	return a + "; " + b
}

// days is a duration in days, or hours below two days.
func days(d time.Duration) string {
	if d >= 48*time.Hour || d <= -48*time.Hour {
		return fmt.Sprintf("%dd", int(d.Hours()/24))
	}
	return fmt.Sprintf("%dh", int(d.Hours()))
}

// stale flags a copy that is not the asset dir's certificate, and one that
// this asset dir's CAs did not sign at all (another cluster's).
func stale(c Cert, assetSerial map[string]string, issuers map[string]*x509.Certificate) Cert {
	if ca := issuers[c.Name]; ca != nil && c.crt != nil && c.crt.CheckSignatureFrom(ca) != nil {
		c.Warning = joinWarn(fmt.Sprintf("not signed by this asset dir's CA %q: it belongs to another cluster (wrong asset dir or address?)", ca.Subject.CommonName), c.Warning)
		return c
	}
	if want, ok := assetSerial[c.Name]; ok && c.Serial != "" && c.Serial != want {
		c.Warning = joinWarn("differs from the asset dir's certificate (renewed but not rolled out? run bootstrap certs renew "+c.Name+")", c.Warning)
	}
	return c
}

func fromFile(name, source, path, renewal, note string) (Cert, error) {
	c := Cert{Name: name, Source: source, Location: path, Renewal: renewal, Note: note}
	data, err := os.ReadFile(path)
	if err == nil {
		var certs []*x509.Certificate
		if certs, err = certutil.ParseCertsPEM(data); err == nil {
			fill(&c, certs[0], nil)
			return c, nil
		}
	}
	c.Error = err.Error()
	return c, err
}

func fill(c *Cert, crt *x509.Certificate, err error) {
	if err != nil {
		c.Error = err.Error()
		return
	}
	c.Subject = crt.Subject.String()
	c.Issuer = crt.Issuer.String()
	c.Serial = crt.SerialNumber.Text(16)
	c.NotAfter = crt.NotAfter.UTC()
	c.CA = crt.IsCA
	c.crt = crt
}

// assetCert reads a leaf from the asset dir (a kubeconfig's embedded one).
func assetCert(dir string, lf leaf) (*x509.Certificate, error) {
	data, err := os.ReadFile(assets.Path(dir, lf.certFile()))
	if err != nil {
		return nil, err
	}
	return parseSecretCert(data, lf.kubeconfig())
}

// parseSecretCert parses a PEM certificate, or a kubeconfig's client one.
func parseSecretCert(data []byte, kubeconfig bool) (*x509.Certificate, error) {
	if len(data) == 0 {
		return nil, errors.New("missing")
	}
	if kubeconfig {
		cfg, err := clientcmd.Load(data)
		if err != nil {
			return nil, err
		}
		ctx := cfg.Contexts[cfg.CurrentContext]
		if ctx == nil || cfg.AuthInfos[ctx.AuthInfo] == nil {
			return nil, errors.New("no current user")
		}
		data = cfg.AuthInfos[ctx.AuthInfo].ClientCertificateData
	}
	certs, err := certutil.ParseCertsPEM(data)
	if err != nil {
		return nil, err
	}
	return certs[0], nil
}

func nodeIP(n *corev1.Node) string {
	for _, a := range n.Status.Addresses {
		if a.Type == corev1.NodeInternalIP {
			return a.Address
		}
	}
	return ""
}

func hostOf(url string) string {
	for i := len("https://"); i < len(url); i++ {
		if url[i] == '/' {
			return url[len("https://"):i]
		}
	}
	return url[len("https://"):]
}

func loadConfig(o Options) (*v1alpha1.BootstrapConfiguration, error) {
	if o.AssetDir == "" {
		return nil, errors.New("--asset-dir is required: the directory `bootstrap render` wrote")
	}
	if o.Config != nil {
		return o.Config, nil
	}
	p := assets.Path(o.AssetDir, assets.ConfigFile)
	if _, err := os.Stat(p); err != nil {
		return nil, fmt.Errorf("%s is not an asset dir (%v): give the directory `bootstrap render` wrote", o.AssetDir, err)
	}
	return v1alpha1.Load(p)
}

// client is an admin client of the asset dir's cluster with short request
// deadlines.
func client(assetDir string) (kubernetes.Interface, error) {
	rc, err := clientcmd.BuildConfigFromFlags("", assets.Path(assetDir, assets.AdminKubeconfig))
	if err != nil {
		return nil, err
	}
	rc.Timeout = DefaultTimeout
	return kubernetes.NewForConfig(rc)
}
