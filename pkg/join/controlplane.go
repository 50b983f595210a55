package join

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"time"

	"k8s.io/apimachinery/pkg/util/validation"
	certutil "k8s.io/client-go/util/cert"

	"github.com/bootstrap-k8s/bootstrap/pkg/apis/bootstrap/v1alpha1"
	"github.com/bootstrap-k8s/bootstrap/pkg/assets"
	"github.com/bootstrap-k8s/bootstrap/pkg/failure"
	"github.com/bootstrap-k8s/bootstrap/pkg/token"
)

// DefaultControlPlaneTimeout bounds the waits of a control-plane join: the
// kubelet starting the etcd member, the member catching up, the node
// registering and its kube-apiserver becoming ready.
const DefaultControlPlaneTimeout = 10 * time.Minute

// ControlPlaneOptions make a join a control-plane join.
type ControlPlaneOptions struct {
	// AssetDir is the cluster's asset dir, shipped by the operator: the
	// node signs its own etcd certificates with the etcd CA in it, and
	// labels itself with its admin kubeconfig.
	AssetDir string
	// NodeName is the kubelet's node name (default: the host name).
	NodeName string
	// AdvertiseAddress is this node's IP: its etcd member's peer and
	// client address and its kube-apiserver's advertised address.
	AdvertiseAddress string
	// StaticPodPath is the kubelet's (default: the node kubelet config's
	// staticPodPath, else /etc/kubernetes/manifests).
	StaticPodPath string
	// EtcdDataDir and EtcdCertDir default to the cluster's etcd.local ones.
	EtcdDataDir, EtcdCertDir string
	// Timeout bounds the waits after the files are written.
	Timeout time.Duration
	// KubeletFlags is called once the files are written, before the waits:
	// the kubelet must start for the join to finish.
	KubeletFlags func([]string)
}

// controlPlane is a validated control-plane join.
type controlPlane struct {
	ControlPlaneOptions
	cfg      *v1alpha1.BootstrapConfiguration // the cluster's, from the asset dir
	node     *v1alpha1.BootstrapConfiguration // the same with this node's name, address and dirs
	peerURL  string
	manifest string
	// workerJoined: the kubelet joined this cluster as a worker already
	// (e.g. after `bootstrap leave`); only the control-plane part runs.
	workerJoined bool
}

// RunControlPlane joins this node as a control-plane node: the worker
// join's checks and files, then its own etcd member (a learner, promoted
// once in sync), then the control-plane label, which brings its
// kube-apiserver. Nothing is written before every check passed.
func RunControlPlane(ctx context.Context, o Options, cpo ControlPlaneOptions) (*Result, error) {
	o.CAHashes = append([]string(nil), o.CAHashes...)
	o.setDefaults()
	if err := o.validate(); err != nil {
		return nil, err
	}
	p := o.paths()
	cp, err := newControlPlane(&o, cpo, p)
	if err != nil {
		return nil, err
	}
	w, err := prepareWorker(ctx, &o, p)
	if err != nil {
		return nil, err
	}
	m, err := connectMembers(ctx, &o, cp)
	if err != nil {
		return nil, err
	}
	defer m.cli.Close()
	if err := m.checkCanAdd(ctx, cp); err != nil {
		return nil, err
	}
	files, err := assets.EtcdMember(cp.node, cp.AssetDir, cp.NodeName, cp.AdvertiseAddress, m.initialCluster(cp), time.Now())
	if err != nil {
		return nil, err
	}
	var todo []file
	if !cp.workerJoined {
		todo = append(todo, w.files...)
	}
	for name, data := range files.CertFiles {
		mode := os.FileMode(0o644)
		if filepath.Ext(name) == ".key" {
			mode = 0o600
		}
		todo = append(todo, file{filepath.Join(cp.EtcdCertDir, name), data, mode})
	}
	if err := os.MkdirAll(cp.EtcdCertDir, 0o700); err != nil {
		return nil, err
	}
	written, err := writeFiles(todo)
	if err != nil {
		return nil, err
	}
	for _, f := range written {
		o.Logf("files", "Wrote %s", f)
	}
	id, err := m.addLearner(ctx, cp)
	if err == nil {
		var more []string
		if more, err = writeFiles([]file{{cp.manifest, files.Manifest, 0o600}}); err == nil {
			written = append(written, more...)
			o.Logf("etcd", "Wrote %s: the kubelet starts this node's etcd member", cp.manifest)
		}
	}
	if err != nil {
		for _, f := range written {
			_ = os.Remove(f)
		}
		return nil, err
	}
	res := w.result(written)
	if cp.KubeletFlags != nil {
		cp.KubeletFlags(res.KubeletFlags)
	}
	if err := m.promote(ctx, &o, cp, id); err != nil {
		return res, err
	}
	if err := becomeControlPlane(ctx, &o, cp); err != nil {
		return res, err
	}
	return res, nil
}

// newControlPlane checks the control-plane flags, the asset dir and this
// node's files; every refusal comes before a request.
func newControlPlane(o *Options, cpo ControlPlaneOptions, p paths) (*controlPlane, error) {
	cp := &controlPlane{ControlPlaneOptions: cpo}
	if cp.Timeout == 0 {
		cp.Timeout = DefaultControlPlaneTimeout
	}
	var errs []error
	if cp.NodeName == "" {
		if h, err := os.Hostname(); err == nil {
			cp.NodeName = strings.ToLower(h)
		}
	}
	if msgs := validation.IsDNS1123Subdomain(cp.NodeName); len(msgs) > 0 {
		errs = append(errs, fmt.Errorf("--node-name %q is not a node name: %v", cp.NodeName, msgs))
	}
	if a, err := netip.ParseAddr(cp.AdvertiseAddress); err != nil || a.IsLoopback() || a.IsUnspecified() || a.Zone() != "" {
		errs = append(errs, fmt.Errorf("--advertise-address %q must be this node's IP address that the other control-plane nodes reach (its etcd peer and kube-apiserver address)", cp.AdvertiseAddress))
	}
	if cp.AssetDir == "" {
		errs = append(errs, errors.New("--asset-dir is required with --control-plane: the cluster's asset dir (bootstrap render's), copied here by the operator; the node signs its etcd certificates with the etcd CA in it"))
	}
	if err := errors.Join(errs...); err != nil {
		return nil, failure.InvalidConfig(err)
	}
	cfg, err := v1alpha1.Load(assets.Path(cp.AssetDir, assets.ConfigFile))
	if err != nil {
		return nil, failure.InvalidConfig(fmt.Errorf("--asset-dir %s: %w (is it the dir `bootstrap render` wrote?)", cp.AssetDir, err))
	}
	cp.cfg = cfg
	switch {
	case cfg.Etcd.Local == nil:
		return nil, failure.InvalidConfig(errors.New("the cluster uses external etcd: joining control-plane nodes is supported for the local (stacked) etcd only"))
	case cfg.APIServer.ControlPlaneEndpoint == "":
		return nil, failure.InvalidConfig(fmt.Errorf("the cluster was rendered without apiServer.controlPlaneEndpoint: its nodes and kubeconfigs reach the API at %s only, so a second control-plane node would not make it survive the loss of the first; render and start the cluster with --control-plane-endpoint (a load balancer or DNS name in front of every control-plane node)", cfg.APIServer.ExternalURL))
	}
	if err := checkAssetDirCA(cp.AssetDir, o.CAHashes); err != nil {
		return nil, err
	}
	node := *cfg
	l := *cfg.Etcd.Local
	if cp.EtcdDataDir != "" {
		l.DataDir = cp.EtcdDataDir
	}
	if cp.EtcdCertDir != "" {
		l.CertDir = cp.EtcdCertDir
	}
	cp.EtcdDataDir, cp.EtcdCertDir = l.DataDir, l.CertDir
	node.Etcd.Local = &l
	node.APIServer.AdvertiseAddress = cp.AdvertiseAddress
	node.Node.Name = cp.NodeName
	cp.node = &node
	cp.peerURL = assets.EtcdPeerURL(cfg, cp.AdvertiseAddress)
	if err := preflight(p); err != nil {
		// A worker of this same cluster may become a control-plane node.
		if !joinedWorkerOf(p, o.CAHashes) {
			return nil, err
		}
		cp.workerJoined = true
		o.Logf("preflight", "This node's kubelet joined this cluster already: adding its control-plane part only")
	}
	if cp.StaticPodPath == "" {
		kubeletConfig := o.NodeKubeletConfig
		if cp.workerJoined {
			kubeletConfig = p.KubeletConfig
		}
		cp.StaticPodPath = staticPodPathOf(kubeletConfig)
	}
	cp.manifest = filepath.Join(cp.StaticPodPath, "etcd.yaml")
	if err := cp.preflightEtcd(); err != nil {
		return nil, err
	}
	return cp, nil
}

// preflightEtcd refuses a node that runs or ran an etcd member: join
// replaces none of its files and starts no member over old data.
func (cp *controlPlane) preflightEtcd() error {
	var errs []error
	if _, err := os.Lstat(cp.manifest); err == nil {
		errs = append(errs, fmt.Errorf("%s exists: this node runs an etcd member already (bootstrap leave removes it)", cp.manifest))
	}
	if entries, err := os.ReadDir(cp.EtcdDataDir); err == nil && len(entries) > 0 {
		errs = append(errs, fmt.Errorf("etcd data dir %s is not empty: a new member must start empty; move it aside if this node's old member is gone", cp.EtcdDataDir))
	}
	for _, f := range []string{"server.crt", "peer.crt", "server.key", "peer.key"} {
		if _, err := os.Lstat(filepath.Join(cp.EtcdCertDir, f)); err == nil {
			errs = append(errs, fmt.Errorf("%s exists: this node has etcd certificates already; join replaces nothing (move it aside)", filepath.Join(cp.EtcdCertDir, f)))
		}
	}
	return failure.Preflight(errors.Join(errs...))
}

// checkAssetDirCA refuses an asset dir whose cluster CA is not the one the
// join pins: it belongs to another cluster.
func checkAssetDirCA(dir string, pins []string) error {
	certs, err := certutil.CertsFromFile(assets.Path(dir, assets.CACert))
	if err != nil {
		return failure.InvalidConfig(fmt.Errorf("--asset-dir %s: reading the cluster CA: %v", dir, err))
	}
	h := token.CAHash(certs[0])
	for _, p := range pins {
		if p == h {
			return nil
		}
	}
	return failure.InvalidConfig(fmt.Errorf("--asset-dir %s belongs to another cluster: its CA %s is not the one --discovery-token-ca-cert-hash pins; pass this cluster's asset dir", dir, h))
}

// DefaultStaticPodPath is the kubelet's static pod dir when its
// configuration names none.
const DefaultStaticPodPath = "/etc/kubernetes/manifests"

// staticPodPathOf reads staticPodPath from a KubeletConfiguration file.
func staticPodPathOf(path string) string {
	if path != "" {
		if m, err := readNodeKubeletConfig(path); err == nil {
			if s, _ := m["staticPodPath"].(string); s != "" {
				return s
			}
		}
	}
	return DefaultStaticPodPath
}

// joinedWorkerOf: the kubelet files exist and their CA is one of pins.
func joinedWorkerOf(p paths, pins []string) bool {
	if _, err := os.Stat(p.Kubeconfig); err != nil {
		return false
	}
	certs, err := certutil.CertsFromFile(p.CA)
	if err != nil {
		return false
	}
	h := token.CAHash(certs[0])
	for _, pin := range pins {
		if pin == h {
			return true
		}
	}
	return false
}
