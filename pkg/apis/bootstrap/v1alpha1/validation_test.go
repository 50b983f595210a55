package v1alpha1

import (
	"slices"
	"strings"
	"testing"
)

// TestValidateEdges covers boundaries the fixtures do not: each case changes
// a valid defaulted configuration and lists the error paths it must produce
// (none for the cases that must stay valid).
func TestValidateEdges(t *testing.T) {
	v6 := func(c *BootstrapConfiguration) {
		c.APIServer.AdvertiseAddress = "2001:db8::10"
		c.Networking.PodCIDR = "fd00:10:244::/56"
		c.Networking.ServiceCIDR = "fd00:10:96::/112"
	}
	for _, tc := range []struct {
		name   string
		mutate func(*BootstrapConfiguration)
		want   []string
	}{
		{"pre-release version", func(c *BootstrapConfiguration) { c.KubernetesVersion = "v1.37.0-rc.1" }, nil},
		{"previous minor", func(c *BootstrapConfiguration) { c.KubernetesVersion = PreviousKubernetesVersion }, nil},
		{"two minors back", func(c *BootstrapConfiguration) { c.KubernetesVersion = "v1.35.9" }, []string{"kubernetesVersion"}},
		{"next minor", func(c *BootstrapConfiguration) { c.KubernetesVersion = "v1.38.0" }, []string{"kubernetesVersion"}},
		{"build metadata is not a tag", func(c *BootstrapConfiguration) { c.KubernetesVersion = "v1.37.0+abc" }, []string{"kubernetesVersion"}},
		{"major 2", func(c *BootstrapConfiguration) { c.KubernetesVersion = "v2.37.0" }, []string{"kubernetesVersion"}},
		{"leading zero", func(c *BootstrapConfiguration) { c.KubernetesVersion = "v1.037.0" }, []string{"kubernetesVersion"}},
		{"service /28 is the smallest", func(c *BootstrapConfiguration) { c.Networking.ServiceCIDR = "10.96.0.0/28" }, nil},
		{"service /12 is the largest", func(c *BootstrapConfiguration) { c.Networking.ServiceCIDR = "10.96.0.0/12" }, nil},
		{"IPv6 service /124", func(c *BootstrapConfiguration) { v6(c); c.Networking.ServiceCIDR = "fd00:10:96::/124" }, nil},
		{"IPv6 service /125", func(c *BootstrapConfiguration) { v6(c); c.Networking.ServiceCIDR = "fd00:10:96::/125" }, []string{"networking.serviceCIDR"}},
		{"IPv6 service /108", func(c *BootstrapConfiguration) { v6(c); c.Networking.ServiceCIDR = "fd00:10:96::/108" }, nil},
		{"IPv6 pod /64", func(c *BootstrapConfiguration) { v6(c); c.Networking.PodCIDR = "fd00:10:244::/64" }, nil},
		{"IPv6 pod /65", func(c *BootstrapConfiguration) { v6(c); c.Networking.PodCIDR = "fd00:10:244::/65" }, []string{"networking.podCIDR"}},
		{"IPv6 both CIDRs IPv4", func(c *BootstrapConfiguration) { c.APIServer.AdvertiseAddress = "2001:db8::10" },
			[]string{"networking.podCIDR", "networking.serviceCIDR"}},
		{"bad advertise: CIDRs compared with each other", func(c *BootstrapConfiguration) {
			c.APIServer.AdvertiseAddress = "x"
			c.Networking.PodCIDR = "fd00:10:244::/56"
		}, []string{"apiServer.advertiseAddress", "networking.serviceCIDR"}},
		{"multicast advertise", func(c *BootstrapConfiguration) { c.APIServer.AdvertiseAddress = "224.0.0.1" }, []string{"apiServer.advertiseAddress"}},
		{"broadcast advertise", func(c *BootstrapConfiguration) { c.APIServer.AdvertiseAddress = "255.255.255.255" }, []string{"apiServer.advertiseAddress"}},
		{"IPv6 loopback advertise", func(c *BootstrapConfiguration) { c.APIServer.AdvertiseAddress = "::1" }, []string{"apiServer.advertiseAddress"}},
		{"advertise with zone", func(c *BootstrapConfiguration) { c.APIServer.AdvertiseAddress = "fe80::1%eth0" }, []string{"apiServer.advertiseAddress"}},
		{"advertise inside pod CIDR", func(c *BootstrapConfiguration) { c.APIServer.AdvertiseAddress = "10.244.3.1" }, []string{"apiServer.advertiseAddress"}},
		{"external URL with path", func(c *BootstrapConfiguration) { c.APIServer.ExternalURL = "https://k8s.example.com/api" }, []string{"apiServer.externalURL"}},
		{"external URL port 0", func(c *BootstrapConfiguration) { c.APIServer.ExternalURL = "https://k8s.example.com:0" }, []string{"apiServer.externalURL"}},
		{"external URL IPv6", func(c *BootstrapConfiguration) { c.APIServer.ExternalURL = "https://[2001:db8::1]:6443" }, nil},
		{"wildcard SAN only at the start", func(c *BootstrapConfiguration) { c.APIServer.ExtraSANs = []string{"*.a.example", "a.*.example", ""} },
			[]string{"apiServer.extraSANs[1]", "apiServer.extraSANs[2]"}},
		{"extraArgs key with a value", func(c *BootstrapConfiguration) { c.Proxy.ExtraArgs = map[string]string{"v=2": ""} }, []string{"proxy.extraArgs[v=2]"}},
		{"extraArgs of etcd are checked", func(c *BootstrapConfiguration) {
			c.Etcd.Local.ExtraArgs = map[string]string{"listen-client-urls": "x", "quota-backend-bytes": "1"}
		}, []string{"etcd.local.extraArgs[listen-client-urls]"}},
		{"flannel without image", func(c *BootstrapConfiguration) { c.Networking.CNI = CNIFlannel }, []string{"images.flannel"}},
		{"image by digest", func(c *BootstrapConfiguration) {
			c.Images.Pause = "registry.k8s.io/pause@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
		}, nil},
		{"image repository on localhost with port", func(c *BootstrapConfiguration) { c.ImageRepository = "localhost:5000" }, nil},
		{"image repository with tag", func(c *BootstrapConfiguration) { c.ImageRepository = "registry.k8s.io/k8s:v1" }, []string{"imageRepository"}},
		{"etcd data dir is /", func(c *BootstrapConfiguration) { c.Etcd.Local.DataDir = "/" }, []string{"etcd.local.dataDir"}},
		{"etcd same data dirs", func(c *BootstrapConfiguration) { c.Etcd.Local.BootDataDir = "/var/lib/etcd/" }, []string{"etcd.local.bootDataDir"}},
		{"etcd relative cert dir", func(c *BootstrapConfiguration) { c.Etcd.Local.CertDir = "pki" }, []string{"etcd.local.certDir"}},
		{"no etcd at all", func(c *BootstrapConfiguration) { c.Etcd.Local = nil }, []string{"etcd"}},
		{"external etcd on IPv6", func(c *BootstrapConfiguration) {
			c.Etcd.Local = nil
			c.Etcd.External = &ExternalEtcd{Endpoints: []string{"https://[fd00::1]:2379"}, CAFile: "/ca", CertFile: "/crt", KeyFile: "/key"}
		}, nil},
		{"external etcd may reuse the local ports", func(c *BootstrapConfiguration) {
			c.APIServer.BindPort = 2379
			c.Etcd.Local = nil
			c.Etcd.External = &ExternalEtcd{Endpoints: []string{"https://etcd:2379"}, CAFile: "/ca", CertFile: "/crt", KeyFile: "/key"}
		}, nil},
		{"leaf validity equal to CA", func(c *BootstrapConfiguration) { c.Certificates.Validity.Duration = c.Certificates.CAValidity.Duration }, nil},
		{"node name with dots", func(c *BootstrapConfiguration) { c.Node.Name = "cp-1.example.com" }, nil},
		{"node name too long", func(c *BootstrapConfiguration) { c.Node.Name = strings.Repeat("a", 254) }, []string{"node.name"}},
		{"cluster name with dots", func(c *BootstrapConfiguration) { c.ClusterName = "a.b" }, []string{"clusterName"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := &BootstrapConfiguration{APIServer: APIServer{AdvertiseAddress: "192.168.1.10"}}
			fixedNode(c)
			SetDefaults(c)
			tc.mutate(c)
			var got []string
			for _, e := range Validate(c) {
				got = append(got, e.Field)
			}
			slices.Sort(got)
			if !slices.Equal(got, tc.want) {
				t.Errorf("error paths %q, want %q: %v", got, tc.want, Validate(c))
			}
		})
	}
}
