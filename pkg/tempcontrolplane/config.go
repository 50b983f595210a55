package tempcontrolplane

import (
	"fmt"
	"net"
	"net/url"
	"strings"
	"time"

	"github.com/bootstrap-k8s/bootstrap/pkg/apis/bootstrap/v1alpha1"
	"github.com/bootstrap-k8s/bootstrap/pkg/endpoints"
)

// Config holds every value the temporary control plane needs, explicitly, so
// that tests can run it on random ports and `bootstrap start` can derive it
// from the cluster configuration with FromBootstrapConfiguration.
type Config struct {
	// AssetDir is a rendered asset dir (pkg/assets layout): PKI and kubeconfigs are read from it.
	AssetDir string

	// BindAddress and BindPort are where the temporary apiserver listens. The port is
	// bound with SO_REUSEPORT so that the self-hosted kube-apiserver can share it.
	BindAddress string
	BindPort    int

	// EtcdName is the boot member's name (the node name).
	EtcdName string
	// EtcdDataDir is the boot member's data dir; it is created if missing and never deleted.
	EtcdDataDir string
	// EtcdAdvertiseAddress is the address peers use to reach the boot member (the node IP).
	// Empty means 127.0.0.1. Clients may always use 127.0.0.1.
	EtcdAdvertiseAddress string
	EtcdClientPort       int
	EtcdPeerPort         int
	// ExternalEtcdEndpoints, when set, makes the temporary apiserver store its
	// objects in an etcd cluster that already runs (client URLs, TLS with the
	// asset dir's apiserver-etcd-client certificate) instead of starting the
	// boot member: `bootstrap recover --etcd-endpoints` after the API was lost
	// while etcd survived. The Etcd* fields above are then ignored.
	ExternalEtcdEndpoints []string
	// ServeAfter, when set, holds Start after the apiserver is built and
	// before it serves, until the channel is closed: a caller starts it
	// while the external etcd still comes up (a restored member elects
	// itself), and the connections made meanwhile wait in the listen
	// backlog instead of getting errors that make clients back off.
	ServeAfter <-chan struct{}

	// KubernetesVersion is what /version reports, e.g. v1.37.2.
	KubernetesVersion string
	// ServiceCIDR is where ClusterIPs of Services created without one come from.
	ServiceCIDR string

	// ReadyTimeout bounds the wait for etcd and the apiserver to become ready (default 60s).
	ReadyTimeout time.Duration
	// StopGracePeriod is how long in-flight requests get before connections are
	// force-closed on Stop (default 500ms).
	StopGracePeriod time.Duration
	// EtcdLogLevel is the embedded etcd's zap level (default "error": etcd is chatty).
	EtcdLogLevel string
	// Logf, when set, gets a line for each step of Start with the time
	// since Start began (boot member ready, apiserver built, prepared,
	// serving, ready): what `-v 1` shows of the temporary control plane.
	// Without it the lines go to klog at V(1).
	Logf func(format string, args ...any)
}

// FromBootstrapConfiguration derives a Config from a defaulted cluster configuration.
func FromBootstrapConfiguration(c *v1alpha1.BootstrapConfiguration, assetDir string) (Config, error) {
	if c.Etcd.Local == nil {
		return Config{}, fmt.Errorf("the temporary control plane needs etcd.local (an external etcd is not supported for bootstrapping)")
	}
	if c.APIServer.AdvertiseAddress == "" {
		return Config{}, fmt.Errorf("apiServer.advertiseAddress is required")
	}
	cfg := Config{
		AssetDir:             assetDir,
		BindAddress:          c.APIServer.AdvertiseAddress,
		BindPort:             int(c.APIServer.BindPort),
		EtcdName:             c.Node.Name,
		EtcdDataDir:          c.Etcd.Local.BootDataDir,
		EtcdAdvertiseAddress: c.APIServer.AdvertiseAddress,
		EtcdClientPort:       int(c.Etcd.Local.BootClientPort),
		EtcdPeerPort:         int(c.Etcd.Local.BootPeerPort),
		KubernetesVersion:    c.KubernetesVersion,
		ServiceCIDR:          c.Networking.ServiceCIDR,
	}
	return cfg, cfg.complete()
}

// complete fills defaults and validates; it is called by New as well.
func (c *Config) complete() error {
	var errs []string
	if c.AssetDir == "" {
		errs = append(errs, "asset dir is required")
	}
	if c.BindAddress == "" {
		c.BindAddress = "127.0.0.1"
	}
	if net.ParseIP(c.BindAddress) == nil {
		errs = append(errs, fmt.Sprintf("bind address %q is not an IP address", c.BindAddress))
	}
	if c.EtcdAdvertiseAddress == "" {
		c.EtcdAdvertiseAddress = "127.0.0.1"
	}
	if net.ParseIP(c.EtcdAdvertiseAddress) == nil {
		errs = append(errs, fmt.Sprintf("etcd advertise address %q is not an IP address", c.EtcdAdvertiseAddress))
	}
	if c.EtcdName == "" {
		c.EtcdName = "bootstrap"
	}
	ports := map[string]int{"apiserver bind port": c.BindPort}
	if len(c.ExternalEtcdEndpoints) > 0 {
		for _, ep := range c.ExternalEtcdEndpoints {
			if u, err := url.Parse(ep); err != nil || u.Scheme != "https" || u.Host == "" {
				errs = append(errs, fmt.Sprintf("etcd endpoint %q must be an https:// URL (etcd is only reached over TLS)", ep))
			}
		}
	} else {
		if c.EtcdDataDir == "" {
			errs = append(errs, "etcd data dir is required")
		}
		ports["etcd client port"], ports["etcd peer port"] = c.EtcdClientPort, c.EtcdPeerPort
		if c.EtcdClientPort == c.EtcdPeerPort {
			errs = append(errs, fmt.Sprintf("etcd client and peer port are both %d", c.EtcdClientPort))
		}
	}
	for name, p := range ports {
		if p <= 0 || p > 65535 {
			errs = append(errs, fmt.Sprintf("%s %d is out of range", name, p))
		}
	}
	if c.KubernetesVersion == "" {
		c.KubernetesVersion = v1alpha1.DefaultKubernetesVersion
	}
	if !strings.HasPrefix(c.KubernetesVersion, "v") {
		errs = append(errs, fmt.Sprintf("kubernetes version %q must look like v1.37.2", c.KubernetesVersion))
	}
	if c.ServiceCIDR == "" {
		c.ServiceCIDR = v1alpha1.DefaultServiceCIDR
	}
	if _, _, err := net.ParseCIDR(c.ServiceCIDR); err != nil {
		errs = append(errs, fmt.Sprintf("service CIDR %q: %v", c.ServiceCIDR, err))
	}
	if c.ReadyTimeout == 0 {
		c.ReadyTimeout = 60 * time.Second
	}
	if c.StopGracePeriod == 0 {
		c.StopGracePeriod = 500 * time.Millisecond
	}
	if c.EtcdLogLevel == "" {
		c.EtcdLogLevel = "error"
	}
	if len(errs) > 0 {
		return fmt.Errorf("invalid temporary control plane configuration: %s", strings.Join(errs, "; "))
	}
	return nil
}

// EtcdClientURLs are the etcd client URLs the apiserver stores into: the
// external endpoints, or the boot member's.
func (c *Config) EtcdClientURLs() []string {
	if len(c.ExternalEtcdEndpoints) > 0 {
		return c.ExternalEtcdEndpoints
	}
	return []string{c.EtcdClientURL()}
}

// EtcdClientURL is the URL clients of the boot member use.
func (c *Config) EtcdClientURL() string {
	return endpoints.BootEtcdClient(int32(c.EtcdClientPort))
}

// APIServerURL is the URL of the temporary apiserver.
func (c *Config) APIServerURL() string {
	return endpoints.HTTPS(c.BindAddress, int32(c.BindPort))
}
