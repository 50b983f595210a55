// Package configflags loads a BootstrapConfiguration from --config and the
// flags that override single fields of it; render, config validate and
// every later command share it so the flags mean the same everywhere.
package configflags

import (
	"time"

	"github.com/spf13/pflag"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/bootstrap-k8s/bootstrap/pkg/apis/bootstrap/v1alpha1"
)

// Flags are the configuration file and its per-field overrides.
type Flags struct {
	File string

	fs        *pflag.FlagSet
	overrides []v1alpha1.Override
}

// AddFlags registers --config and the override flags on fs.
func (f *Flags) AddFlags(fs *pflag.FlagSet) {
	f.fs = fs
	fs.StringVar(&f.File, "config", "", "BootstrapConfiguration file (see 'bootstrap config print-defaults'); flags override its fields")
	f.str(fs, "advertise-address", "node IP the apiserver binds to and advertises (apiServer.advertiseAddress)", func(c *v1alpha1.BootstrapConfiguration, v string) { c.APIServer.AdvertiseAddress = v })
	f.str(fs, "control-plane-endpoint", "load balancer or DNS name every node reaches the control plane on, host[:port] (apiServer.controlPlaneEndpoint); needed to join control-plane nodes later", func(c *v1alpha1.BootstrapConfiguration, v string) { c.APIServer.ControlPlaneEndpoint = v })
	f.str(fs, "external-url", "URL kubeconfigs point at, e.g. https://k8s.example.com:6443 (apiServer.externalURL)", func(c *v1alpha1.BootstrapConfiguration, v string) { c.APIServer.ExternalURL = v })
	f.str(fs, "node-name", "name of the first node (node.name; default: host name)", func(c *v1alpha1.BootstrapConfiguration, v string) { c.Node.Name = v })
	f.str(fs, "cluster-name", "cluster name (clusterName)", func(c *v1alpha1.BootstrapConfiguration, v string) { c.ClusterName = v })
	f.str(fs, "kubernetes-version", "Kubernetes version (kubernetesVersion)", func(c *v1alpha1.BootstrapConfiguration, v string) { c.KubernetesVersion = v })
	f.str(fs, "image-repository", "image repository (imageRepository)", func(c *v1alpha1.BootstrapConfiguration, v string) { c.ImageRepository = v })
	f.str(fs, "pod-cidr", "pod network CIDR (networking.podCIDR)", func(c *v1alpha1.BootstrapConfiguration, v string) { c.Networking.PodCIDR = v })
	f.str(fs, "service-cidr", "service network CIDR (networking.serviceCIDR)", func(c *v1alpha1.BootstrapConfiguration, v string) { c.Networking.ServiceCIDR = v })
	f.str(fs, "dns-domain", "cluster DNS domain (networking.dnsDomain)", func(c *v1alpha1.BootstrapConfiguration, v string) { c.Networking.DNSDomain = v })
	f.str(fs, "cni", "pod network: bridge, flannel or none (networking.cni)", func(c *v1alpha1.BootstrapConfiguration, v string) { c.Networking.CNI = v })
	f.str(fs, "key-algorithm", "ECDSA-P256, RSA-2048, RSA-3072 or RSA-4096 (certificates.keyAlgorithm)", func(c *v1alpha1.BootstrapConfiguration, v string) { c.Certificates.KeyAlgorithm = v })
	var port int32
	fs.Int32Var(&port, "bind-port", 0, "apiserver secure port (apiServer.bindPort; default 6443)")
	f.overrides = append(f.overrides, func(c *v1alpha1.BootstrapConfiguration) {
		if fs.Changed("bind-port") {
			c.APIServer.BindPort = port
		}
	})
	var validity time.Duration
	fs.DurationVar(&validity, "certificate-validity", 0, "lifetime of the leaf certificates render issues, e.g. 8760h (certificates.validity; default 8760h, at most certificates.caValidity)")
	f.overrides = append(f.overrides, func(c *v1alpha1.BootstrapConfiguration) {
		if fs.Changed("certificate-validity") {
			c.Certificates.Validity = &metav1.Duration{Duration: validity}
		}
	})
	var sans []string
	fs.StringSliceVar(&sans, "extra-sans", nil, "extra apiserver certificate SANs, comma-separated (apiServer.extraSANs)")
	f.overrides = append(f.overrides, func(c *v1alpha1.BootstrapConfiguration) {
		if fs.Changed("extra-sans") {
			c.APIServer.ExtraSANs = sans
		}
	})
}

// str registers a string flag that, when set, overrides one field.
func (f *Flags) str(fs *pflag.FlagSet, name, usage string, set func(*v1alpha1.BootstrapConfiguration, string)) {
	var v string
	fs.StringVar(&v, name, "", usage)
	f.overrides = append(f.overrides, func(c *v1alpha1.BootstrapConfiguration) {
		if fs.Changed(name) {
			set(c, v)
		}
	})
}

// Load returns the defaulted, validated configuration: the file (if any)
// with the flags set on the command line applied over it.
func (f *Flags) Load() (*v1alpha1.BootstrapConfiguration, error) {
	if f.File != "" {
		return v1alpha1.Load(f.File, f.overrides...)
	}
	c := &v1alpha1.BootstrapConfiguration{}
	for _, o := range f.overrides {
		o(c)
	}
	if err := v1alpha1.Complete(c, "command-line flags"); err != nil {
		return nil, err
	}
	return c, nil
}
