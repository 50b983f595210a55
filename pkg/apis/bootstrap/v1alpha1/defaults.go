package v1alpha1

import (
	"fmt"
	"os"
	"strings"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// Defaults of the configuration API. They are also what `bootstrap config
// print-defaults` shows.
const (
	DefaultClusterName       = "kubernetes"
	DefaultKubernetesVersion = "v1.37.2"
	// PreviousKubernetesVersion is the release of the previous minor that
	// the harness builds and the upgrade scenarios start from; render
	// supports every patch of the previous and the default minor.
	PreviousKubernetesVersion = "v1.36.3"
	DefaultImageRepository    = "registry.k8s.io"
	DefaultBindPort           = 6443
	DefaultStaticPodPath      = "/etc/kubernetes/manifests"
	DefaultPodCIDR            = "10.244.0.0/16"
	DefaultServiceCIDR        = "10.96.0.0/12"
	DefaultDNSDomain          = "cluster.local"
	DefaultEtcdDataDir        = "/var/lib/etcd"
	DefaultEtcdClientPort     = 2379
	DefaultEtcdPeerPort       = 2380
	DefaultBootClientPort     = 12379
	DefaultBootPeerPort       = 12380
	DefaultBootDataDir        = "/var/lib/bootstrap/etcd"
	DefaultEtcdCertDir        = "/etc/kubernetes/pki/etcd"
	DefaultCAValidity         = 10 * 365 * 24 * time.Hour
	DefaultValidity           = 365 * 24 * time.Hour

	// EtcdVersion is the etcd release the persistent member runs; the boot
	// member is the same code, embedded.
	EtcdVersion    = "3.7.3"
	CoreDNSVersion = "v1.15.0"
	PauseVersion   = "3.10.2"
	FlannelImage   = "docker.io/flannel/flannel:v0.28.10"
	// BootstrapImage is where bootstrap's own image is expected by default:
	// hack/build-images.sh builds it from the binary under this name; a
	// production cluster sets images.bootstrap to where it publishes it.
	BootstrapImage = "localhost/bootstrap/bootstrap:v0.1.0"
)

// SetDefaults fills every field left empty. It never overwrites a set field.
func SetDefaults(c *BootstrapConfiguration) {
	c.APIVersion = GroupName + "/" + Version
	c.Kind = Kind
	def(&c.ClusterName, DefaultClusterName)
	def(&c.KubernetesVersion, DefaultKubernetesVersion)
	def(&c.ImageRepository, DefaultImageRepository)

	if c.APIServer.BindPort == 0 {
		c.APIServer.BindPort = DefaultBindPort
	}
	if c.APIServer.ExternalURL == "" && c.APIServer.ControlPlaneEndpoint != "" {
		if u, err := ControlPlaneEndpointURL(&c.APIServer); err == nil {
			c.APIServer.ExternalURL = u
		}
	}
	if c.APIServer.ExternalURL == "" && c.APIServer.AdvertiseAddress != "" {
		c.APIServer.ExternalURL = fmt.Sprintf("https://%s", joinHostPort(c.APIServer.AdvertiseAddress, c.APIServer.BindPort))
	}

	if c.Node.Name == "" {
		if h, err := os.Hostname(); err == nil {
			c.Node.Name = strings.ToLower(h)
		}
	}
	def(&c.Node.StaticPodPath, DefaultStaticPodPath)

	def(&c.Networking.PodCIDR, DefaultPodCIDR)
	def(&c.Networking.ServiceCIDR, DefaultServiceCIDR)
	def(&c.Networking.DNSDomain, DefaultDNSDomain)
	def(&c.Networking.CNI, CNIBridge)

	if c.Etcd.External == nil {
		if c.Etcd.Local == nil {
			c.Etcd.Local = &LocalEtcd{}
		}
		l := c.Etcd.Local
		def(&l.DataDir, DefaultEtcdDataDir)
		def(&l.BootDataDir, DefaultBootDataDir)
		def(&l.CertDir, DefaultEtcdCertDir)
		def32(&l.ClientPort, DefaultEtcdClientPort)
		def32(&l.PeerPort, DefaultEtcdPeerPort)
		def32(&l.BootClientPort, DefaultBootClientPort)
		def32(&l.BootPeerPort, DefaultBootPeerPort)
	}

	def(&c.Certificates.KeyAlgorithm, KeyAlgorithmECDSAP256)
	if c.Certificates.CAValidity == nil {
		c.Certificates.CAValidity = &metav1.Duration{Duration: DefaultCAValidity}
	}
	if c.Certificates.Validity == nil {
		c.Certificates.Validity = &metav1.Duration{Duration: DefaultValidity}
	}

	defaultImages(&c.Images, c)
}

// defaultImages fills the image references that are derived from
// imageRepository and kubernetesVersion (and the CNI) when not set.
func defaultImages(ov *ImageOverrides, c *BootstrapConfiguration) {
	repo := strings.TrimSuffix(c.ImageRepository, "/")
	def(&ov.KubeAPIServer, repo+"/kube-apiserver:"+c.KubernetesVersion)
	def(&ov.KubeControllerManager, repo+"/kube-controller-manager:"+c.KubernetesVersion)
	def(&ov.KubeScheduler, repo+"/kube-scheduler:"+c.KubernetesVersion)
	def(&ov.KubeProxy, repo+"/kube-proxy:"+c.KubernetesVersion)
	def(&ov.Etcd, repo+"/etcd:"+EtcdVersion+"-0")
	def(&ov.CoreDNS, repo+"/coredns/coredns:"+CoreDNSVersion)
	def(&ov.Pause, repo+"/pause:"+PauseVersion)
	def(&ov.Bootstrap, BootstrapImage)
	if c.Networking.CNI == CNIFlannel {
		def(&ov.Flannel, FlannelImage)
	}
}

// forgetDerivedImages clears every image that is exactly what imageRepository
// and kubernetesVersion derive, so that it follows them again. A written
// configuration (the asset dir's bootstrap-config.yaml) spells every image
// out; without this, re-rendering it with a new kubernetesVersion would keep
// the old minor's images: an upgrade that upgrades nothing.
func forgetDerivedImages(c *BootstrapConfiguration) {
	probe := &BootstrapConfiguration{ImageRepository: c.ImageRepository, KubernetesVersion: c.KubernetesVersion, Networking: c.Networking}
	def(&probe.ImageRepository, DefaultImageRepository)
	def(&probe.KubernetesVersion, DefaultKubernetesVersion)
	def(&probe.Networking.CNI, CNIBridge)
	var derived ImageOverrides
	defaultImages(&derived, probe)
	for _, f := range []struct {
		set     *string
		derived string
	}{
		{&c.Images.KubeAPIServer, derived.KubeAPIServer},
		{&c.Images.KubeControllerManager, derived.KubeControllerManager},
		{&c.Images.KubeScheduler, derived.KubeScheduler},
		{&c.Images.KubeProxy, derived.KubeProxy},
		{&c.Images.Etcd, derived.Etcd},
		{&c.Images.CoreDNS, derived.CoreDNS},
		{&c.Images.Pause, derived.Pause},
		{&c.Images.Bootstrap, derived.Bootstrap},
		{&c.Images.Flannel, derived.Flannel},
	} {
		if *f.set == f.derived {
			*f.set = ""
		}
	}
}

func def(s *string, v string) {
	if *s == "" {
		*s = v
	}
}

func def32(p *int32, v int32) {
	if *p == 0 {
		*p = v
	}
}

func joinHostPort(host string, port int32) string {
	if strings.Contains(host, ":") {
		return fmt.Sprintf("[%s]:%d", host, port)
	}
	return fmt.Sprintf("%s:%d", host, port)
}
