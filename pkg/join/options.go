package join

import (
	"errors"
	"fmt"
	"net/url"
	"path/filepath"
	"time"

	bootstraputil "k8s.io/cluster-bootstrap/token/util"

	"github.com/bootstrap-k8s/bootstrap/pkg/failure"
	"github.com/bootstrap-k8s/bootstrap/pkg/token"
)

// Defaults of the files join writes (kubeadm's layout).
const (
	DefaultKubernetesDir = "/etc/kubernetes"
	DefaultKubeletConfig = "/var/lib/kubelet/config.yaml"
	// BootstrapKubeconfigName is the kubelet's --bootstrap-kubeconfig.
	BootstrapKubeconfigName = "bootstrap-kubelet.conf"
	// KubeconfigName is the kubelet's --kubeconfig, which the kubelet writes
	// once its client certificate is issued.
	KubeconfigName = "kubelet.conf"
	// CAName is the cluster CA, under pki/.
	CAName = "pki/ca.crt"
	// DefaultTimeout bounds discovery and the token check.
	DefaultTimeout = 2 * time.Minute
	// DefaultSignatureWait is how long join waits for the bootstrap signer to
	// sign cluster-info with a new token before it calls the token unknown.
	DefaultSignatureWait = 15 * time.Second
)

// Options of one join.
type Options struct {
	// Server is the apiserver URL, https://HOST:PORT.
	Server string
	// Token is the bootstrap token, id.secret.
	Token string
	// CAHashes are the accepted pins of the cluster CA (sha256:...); one must match.
	CAHashes []string
	// KubernetesDir receives bootstrap-kubelet.conf and pki/ca.crt; the kubelet
	// writes kubelet.conf there.
	KubernetesDir string
	// KubeletConfig is where the kubelet's configuration is written.
	KubeletConfig string
	// NodeKubeletConfig is an optional KubeletConfiguration with the node's
	// own settings (container runtime, cgroup driver, paths); the cluster's
	// settings are laid over it.
	NodeKubeletConfig string
	// Timeout bounds discovery and the token check; SignatureWait the wait for
	// the bootstrap signer.
	Timeout, SignatureWait time.Duration
	// Logf reports progress ([phase] message); nil discards it.
	Logf func(phase, format string, args ...any)
}

func (o *Options) setDefaults() {
	if o.KubernetesDir == "" {
		o.KubernetesDir = DefaultKubernetesDir
	}
	if o.KubeletConfig == "" {
		o.KubeletConfig = DefaultKubeletConfig
	}
	if o.Timeout == 0 {
		o.Timeout = DefaultTimeout
	}
	if o.SignatureWait == 0 {
		o.SignatureWait = DefaultSignatureWait
	}
	if o.Logf == nil {
		o.Logf = func(string, string, ...any) {}
	}
}

// validate checks the flags; every error is invalid configuration.
func (o *Options) validate() error {
	var errs []error
	u, err := url.Parse(o.Server)
	switch {
	case o.Server == "":
		errs = append(errs, errors.New("--server is required: the cluster's apiserver, https://HOST:PORT (bootstrap token create prints the whole join command)"))
	case err != nil || u.Scheme != "https" || u.Host == "" || (u.Path != "" && u.Path != "/"):
		errs = append(errs, fmt.Errorf("--server %q is not an apiserver URL: want https://HOST:PORT", o.Server))
	}
	if o.Token == "" {
		errs = append(errs, errors.New("--token is required: a bootstrap token (bootstrap token create on the control plane makes one)"))
	} else if !bootstraputil.IsValidBootstrapToken(o.Token) {
		errs = append(errs, errors.New("--token is not a bootstrap token: want 6 and 16 characters of [a-z0-9] joined by a dot, e.g. abcdef.0123456789abcdef"))
	}
	if len(o.CAHashes) == 0 {
		errs = append(errs, errors.New("--discovery-token-ca-cert-hash is required: the pin of the cluster CA, sha256:..., as bootstrap token create prints it (join never trusts an unpinned server)"))
	}
	for i, h := range o.CAHashes {
		p, err := token.ParseCAHash(h)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		o.CAHashes[i] = p
	}
	for _, p := range []struct{ flag, path string }{{"--kubernetes-dir", o.KubernetesDir}, {"--kubelet-config", o.KubeletConfig}} {
		if !filepath.IsAbs(p.path) {
			errs = append(errs, fmt.Errorf("%s %q must be an absolute path", p.flag, p.path))
		}
	}
	return failure.InvalidConfig(errors.Join(errs...))
}

// paths are the files join writes, and the one the kubelet writes.
type paths struct {
	CA, BootstrapKubeconfig, Kubeconfig, KubeletConfig string
}

func (o *Options) paths() paths {
	return paths{
		CA:                  filepath.Join(o.KubernetesDir, filepath.FromSlash(CAName)),
		BootstrapKubeconfig: filepath.Join(o.KubernetesDir, BootstrapKubeconfigName),
		Kubeconfig:          filepath.Join(o.KubernetesDir, KubeconfigName),
		KubeletConfig:       o.KubeletConfig,
	}
}
