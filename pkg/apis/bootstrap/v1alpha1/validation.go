package v1alpha1

import (
	"fmt"
	"net/netip"
	"net/url"
	"path"
	"regexp"
	"slices"
	"strconv"
	"strings"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/validation"
	"k8s.io/apimachinery/pkg/util/validation/field"
)

// SupportedKubernetesMinors are the 1.x minor versions this release of
// bootstrap renders manifests for: the current minor and the one before it,
// which clusters upgrade from (one minor at a time, as the version-skew
// policy requires). Flags and API versions differ between minors and only
// these two are rendered, started and upgraded in e2e, so anything else is
// refused instead of rendered wrong.
var SupportedKubernetesMinors = []uint64{36, 37}

// ReservedHostPorts are ports other components listen on in the host network
// of every control-plane node; the API server and etcd must not take them.
var ReservedHostPorts = map[int32]string{
	10248: "the kubelet's healthz endpoint",
	10249: "kube-proxy's metrics endpoint",
	10250: "the kubelet",
	10256: "kube-proxy's healthz endpoint",
	10257: "kube-controller-manager",
	10259: "kube-scheduler",
}

// KeyAlgorithms are the values certificates.keyAlgorithm accepts.
var KeyAlgorithms = []string{KeyAlgorithmECDSAP256, KeyAlgorithmRSA2048, KeyAlgorithmRSA3072, KeyAlgorithmRSA4096}

// CNIs are the values networking.cni accepts.
var CNIs = []string{CNIBridge, CNIFlannel, CNINone}

// No build metadata: the version is also an image tag, and tags cannot hold "+".
var versionRE = regexp.MustCompile(`^v(0|[1-9][0-9]*)\.(0|[1-9][0-9]*)\.(0|[1-9][0-9]*)(-[0-9A-Za-z-]+(\.[0-9A-Za-z-]+)*)?$`)

// Validate checks a defaulted configuration (see SetDefaults) and returns
// every error, each with its field path. An empty list means valid.
func Validate(c *BootstrapConfiguration) field.ErrorList {
	var errs field.ErrorList
	errs = append(errs, dns1123(field.NewPath("clusterName"), c.ClusterName, validation.IsDNS1123Label)...)
	errs = append(errs, validateVersion(field.NewPath("kubernetesVersion"), c.KubernetesVersion)...)
	errs = append(errs, validateImages(c)...)
	advertise, apiErrs := validateAPIServer(c, field.NewPath("apiServer"))
	errs = append(errs, apiErrs...)
	errs = append(errs, validateNode(&c.Node, field.NewPath("node"))...)
	errs = append(errs, validateNetworking(&c.Networking, advertise, field.NewPath("networking"))...)
	errs = append(errs, validateEtcd(c, field.NewPath("etcd"))...)
	errs = append(errs, validateCertificates(&c.Certificates, field.NewPath("certificates"))...)
	errs = append(errs, validateExtraArgs(field.NewPath("controllerManager", "extraArgs"), "controllerManager", c.ControllerManager.ExtraArgs)...)
	errs = append(errs, validateExtraArgs(field.NewPath("scheduler", "extraArgs"), "scheduler", c.Scheduler.ExtraArgs)...)
	errs = append(errs, validateExtraArgs(field.NewPath("proxy", "extraArgs"), "proxy", c.Proxy.ExtraArgs)...)
	return errs
}

func validateVersion(p *field.Path, v string) field.ErrorList {
	if v == "" {
		return field.ErrorList{field.Required(p, "e.g. "+DefaultKubernetesVersion)}
	}
	m := versionRE.FindStringSubmatch(v)
	if m == nil {
		return field.ErrorList{field.Invalid(p, v, "must be a version vMAJOR.MINOR.PATCH[-PRERELEASE], e.g. "+DefaultKubernetesVersion)}
	}
	major, _ := strconv.ParseUint(m[1], 10, 64)
	minor, _ := strconv.ParseUint(m[2], 10, 64)
	if major != 1 || !slices.Contains(SupportedKubernetesMinors, minor) {
		return field.ErrorList{field.Invalid(p, v, fmt.Sprintf(
			"Kubernetes %d.%d is not supported: this release of bootstrap supports %s (the current minor and the previous one, which clusters upgrade from; see docs/upgrades.md)", major, minor, supportedMinors()))}
	}
	return nil
}

func supportedMinors() string {
	var s []string
	for _, m := range SupportedKubernetesMinors {
		s = append(s, fmt.Sprintf("v1.%d.x", m))
	}
	if len(s) == 1 {
		return s[0] + " only"
	}
	return strings.Join(s[:len(s)-1], ", ") + " and " + s[len(s)-1]
}

func validateImages(c *BootstrapConfiguration) field.ErrorList {
	var errs field.ErrorList
	p := field.NewPath("imageRepository")
	if !validImageRepository(c.ImageRepository) {
		errs = append(errs, field.Invalid(p, c.ImageRepository,
			"must be a registry host with optional port and lowercase path, without tag, e.g. registry.k8s.io or registry.example.com:5000/k8s"))
	}
	repo := strings.TrimSuffix(c.ImageRepository, "/")
	ip := field.NewPath("images")
	for _, img := range []struct{ name, value, derived string }{
		{"kubeAPIServer", c.Images.KubeAPIServer, repo + "/kube-apiserver:" + c.KubernetesVersion},
		{"kubeControllerManager", c.Images.KubeControllerManager, repo + "/kube-controller-manager:" + c.KubernetesVersion},
		{"kubeScheduler", c.Images.KubeScheduler, repo + "/kube-scheduler:" + c.KubernetesVersion},
		{"kubeProxy", c.Images.KubeProxy, repo + "/kube-proxy:" + c.KubernetesVersion},
		{"etcd", c.Images.Etcd, repo + "/etcd:" + EtcdVersion + "-0"},
		{"coreDNS", c.Images.CoreDNS, repo + "/coredns/coredns:" + CoreDNSVersion},
		{"pause", c.Images.Pause, repo + "/pause:" + PauseVersion},
		{"flannel", c.Images.Flannel, flannelDefault(c)},
	} {
		switch {
		case img.value == img.derived:
			// The default, derived from imageRepository and kubernetesVersion,
			// whose errors are already reported at their own paths; or an
			// unused flannel image left empty.
		case img.value == "":
			errs = append(errs, field.Required(ip.Child(img.name), "an image reference"))
		case !validImageReference(img.value):
			errs = append(errs, field.Invalid(ip.Child(img.name), img.value,
				"must be an image reference such as registry.k8s.io/pause:3.10.2: lowercase repository, optional :tag and @sha256:digest"))
		}
	}
	return errs
}

func flannelDefault(c *BootstrapConfiguration) string {
	if c.Networking.CNI == CNIFlannel {
		return FlannelImage
	}
	return ""
}

// validateAPIServer also returns the advertise address when it is valid, as
// the networking checks compare families and ranges with it.
func validateAPIServer(c *BootstrapConfiguration, p *field.Path) (netip.Addr, field.ErrorList) {
	var errs field.ErrorList
	a := &c.APIServer
	advertise, err := parseUnicast(a.AdvertiseAddress)
	if err != "" {
		if a.AdvertiseAddress == "" {
			errs = append(errs, field.Required(p.Child("advertiseAddress"), "the IP address of this node that other nodes and pods reach the API server on"))
		} else {
			errs = append(errs, field.Invalid(p.Child("advertiseAddress"), a.AdvertiseAddress, err))
		}
	}
	portErrs := validatePort(p.Child("bindPort"), a.BindPort)
	if who, taken := ReservedHostPorts[a.BindPort]; taken {
		portErrs = append(portErrs, field.Invalid(p.Child("bindPort"), a.BindPort, "is the port of "+who+" on every node"))
	}
	errs = append(errs, portErrs...)
	// With a bad advertise address or port the default URL is bad too (or
	// absent): report the address or port, not the URL derived from them.
	derived := a.ExternalURL == "https://"+joinHostPort(a.AdvertiseAddress, a.BindPort)
	if a.ExternalURL != "" && !(derived && (!advertise.IsValid() || len(portErrs) > 0)) || advertise.IsValid() && a.ExternalURL == "" {
		errs = append(errs, validateHTTPSURL(p.Child("externalURL"), a.ExternalURL, "https://k8s.example.com:6443")...)
	}
	errs = append(errs, validateControlPlaneEndpoint(a, p)...)
	seen := map[string]bool{}
	for i, san := range a.ExtraSANs {
		sp := p.Child("extraSANs").Index(i)
		switch {
		case seen[san]:
			errs = append(errs, field.Duplicate(sp, san))
		case san == "":
			errs = append(errs, field.Invalid(sp, san, "must be an IP address or a DNS name"))
		default:
			if _, err := netip.ParseAddr(san); err == nil {
				// An IP SAN holds the bare address: no zone, no mapped form.
				if _, msg := parseIP(san); msg != "" {
					errs = append(errs, field.Invalid(sp, san, msg))
				}
				break
			}
			check := validation.IsDNS1123Subdomain
			if strings.HasPrefix(san, "*.") {
				check = validation.IsWildcardDNS1123Subdomain
			}
			if msgs := check(san); len(msgs) > 0 {
				errs = append(errs, field.Invalid(sp, san, "must be an IP address or a DNS name (a leading *. is allowed): "+strings.Join(msgs, "; ")))
			}
		}
		seen[san] = true
	}
	errs = append(errs, validateExtraArgs(p.Child("extraArgs"), "apiServer", a.ExtraArgs)...)
	return advertise, errs
}

// parseUnicast returns the address, or why s is not one this node can be
// reached on.
func parseUnicast(s string) (netip.Addr, string) {
	a, err := parseIP(s)
	switch {
	case err != "":
		return netip.Addr{}, err
	case a.IsLoopback():
		return netip.Addr{}, "must not be a loopback address: other nodes and the pods reach the API server on it"
	case a.IsUnspecified():
		return netip.Addr{}, "must be one address of this node, not the unspecified address (0.0.0.0 or ::)"
	case a.IsMulticast() || a == netip.AddrFrom4([4]byte{255, 255, 255, 255}):
		return netip.Addr{}, "must be a unicast address"
	}
	return a, ""
}

func parseIP(s string) (netip.Addr, string) {
	a, err := netip.ParseAddr(s)
	switch {
	case err != nil:
		return a, "must be an IP address such as 192.168.1.10 or fd00::10"
	case a.Zone() != "":
		return a, "must not carry an IPv6 zone (%" + a.Zone() + ")"
	case a.Is4In6():
		return a, "IPv4-mapped IPv6 addresses are not supported: write " + a.Unmap().String()
	}
	return a, ""
}

func validatePort(p *field.Path, port int32) field.ErrorList {
	if port < 1 || port > 65535 {
		return field.ErrorList{field.Invalid(p, port, "must be a port number between 1 and 65535")}
	}
	return nil
}

func validateHTTPSURL(p *field.Path, s, example string) field.ErrorList {
	u, err := url.Parse(s)
	switch {
	case s == "":
		return field.ErrorList{field.Required(p, "e.g. "+example)}
	case err != nil:
		return field.ErrorList{field.Invalid(p, s, "must be a URL such as "+example)}
	case u.Scheme != "https":
		return field.ErrorList{field.Invalid(p, s, "must be an https:// URL such as "+example+": every endpoint is TLS")}
	case u.Hostname() == "":
		return field.ErrorList{field.Invalid(p, s, "must name a host, e.g. "+example)}
	case u.User != nil || u.RawQuery != "" || u.Fragment != "" || (u.Path != "" && u.Path != "/"):
		return field.ErrorList{field.Invalid(p, s, "must be scheme, host and port only, e.g. "+example)}
	}
	if port := u.Port(); port != "" {
		if n, err := strconv.Atoi(port); err != nil || n < 1 || n > 65535 {
			return field.ErrorList{field.Invalid(p, s, "port must be between 1 and 65535")}
		}
	}
	return nil
}

func validateNode(n *Node, p *field.Path) field.ErrorList {
	var errs field.ErrorList
	if n.Name == "" {
		errs = append(errs, field.Required(p.Child("name"), "could not be derived from the host name: set node.name"))
	} else {
		errs = append(errs, dns1123(p.Child("name"), n.Name, validation.IsDNS1123Subdomain)...)
	}
	errs = append(errs, absPath(p.Child("staticPodPath"), n.StaticPodPath)...)
	return errs
}

func validateCertificates(c *Certificates, p *field.Path) field.ErrorList {
	var errs field.ErrorList
	if !slices.Contains(KeyAlgorithms, c.KeyAlgorithm) {
		errs = append(errs, field.NotSupported(p.Child("keyAlgorithm"), c.KeyAlgorithm, KeyAlgorithms))
	}
	positive := func(name string, d *metav1.Duration) bool {
		if d != nil && d.Duration > 0 {
			return true
		}
		var bad any = field.OmitValueType{}
		if d != nil {
			bad = d.Duration.String()
		}
		errs = append(errs, field.Invalid(p.Child(name), bad, "must be a positive duration such as 8760h"))
		return false
	}
	caOK, leafOK := positive("caValidity", c.CAValidity), positive("validity", c.Validity)
	if caOK && leafOK && c.Validity.Duration > c.CAValidity.Duration {
		errs = append(errs, field.Invalid(p.Child("validity"), c.Validity.Duration.String(),
			fmt.Sprintf("must not exceed certificates.caValidity (%s): a certificate cannot outlive its CA", c.CAValidity.Duration)))
	}
	return errs
}

// validateExtraArgs rejects flag names that cannot work, flags render
// manages itself (see ManagedFlags) and values that would remove a security
// property (see SecurityFlags). Keys are checked in sorted order so
// that errors come out the same way every run.
func validateExtraArgs(p *field.Path, component string, args map[string]string) field.ErrorList {
	var errs field.ErrorList
	keys := make([]string, 0, len(args))
	for k := range args {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for _, k := range keys {
		kp := p.Key(k)
		switch {
		case k == "":
			errs = append(errs, field.Invalid(kp, k, "flag name must not be empty"))
		case strings.HasPrefix(k, "-"):
			errs = append(errs, field.Invalid(kp, k, fmt.Sprintf("write the flag name without dashes: %q", strings.TrimLeft(k, "-"))))
		case strings.ContainsAny(k, "= \t\n"):
			errs = append(errs, field.Invalid(kp, k, "must be a flag name only; put the value on the right of the colon"))
		default:
			if how, managed := ManagedFlags[component][k]; managed {
				errs = append(errs, field.Forbidden(kp, fmt.Sprintf("--%s is set by bootstrap: %s", k, how)))
			} else if check := securityCheck(component, k); check != nil {
				if why := check(args[k]); why != "" {
					errs = append(errs, field.Invalid(kp, args[k], fmt.Sprintf("refused, it would weaken the cluster's security: %s", why)))
				}
			}
		}
	}
	return errs
}

func dns1123(p *field.Path, v string, check func(string) []string) field.ErrorList {
	if msgs := check(v); len(msgs) > 0 {
		return field.ErrorList{field.Invalid(p, v, strings.Join(msgs, "; "))}
	}
	return nil
}

// absPath requires an absolute path: the config is applied on a node whose
// working directory has nothing to do with the one render ran in.
func absPath(p *field.Path, v string) field.ErrorList {
	if v == "" {
		return field.ErrorList{field.Required(p, "an absolute path")}
	}
	if !path.IsAbs(v) {
		return field.ErrorList{field.Invalid(p, v, "must be an absolute path")}
	}
	return nil
}
