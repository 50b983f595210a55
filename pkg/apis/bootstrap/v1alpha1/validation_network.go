package v1alpha1

import (
	"fmt"
	"net/netip"
	"path"
	"slices"
	"strings"

	"k8s.io/apimachinery/pkg/util/validation"
	"k8s.io/apimachinery/pkg/util/validation/field"
)

// Size limits of the cluster networks, as prefix lengths per family.
//
// Service CIDR: kube-apiserver refuses ranges with more than 20 host bits
// (/12 for IPv4, /108 for IPv6), and render needs the 1st address (the
// kubernetes Service) and the 10th (CoreDNS), so at least 16 addresses.
//
// Pod CIDR: the controller-manager cuts one node range out of it per node
// (/24 for IPv4, /64 for IPv6 by default) and allows at most 16 bits between
// the two masks; a pod CIDR smaller than one node range holds no node.
var (
	ServiceCIDRPrefix = map[bool][2]int{false: {12, 28}, true: {108, 124}} // keyed by IPv6
	PodCIDRPrefix     = map[bool][2]int{false: {8, 24}, true: {48, 64}}
)

func validateNetworking(n *Networking, advertise netip.Addr, p *field.Path) field.ErrorList {
	var errs field.ErrorList
	pod, podErrs := parseCIDR(p.Child("podCIDR"), n.PodCIDR, advertise)
	svc, svcErrs := parseCIDR(p.Child("serviceCIDR"), n.ServiceCIDR, advertise)
	errs = append(append(errs, podErrs...), svcErrs...)
	if pod.IsValid() {
		errs = append(errs, checkSize(p.Child("podCIDR"), n.PodCIDR, pod, PodCIDRPrefix, fmt.Sprintf(
			"the controller-manager gives every node a /%d out of it, at most 2^16 of them", PodCIDRPrefix[pod.Addr().Is6()][1]))...)
	}
	if svc.IsValid() {
		errs = append(errs, checkSize(p.Child("serviceCIDR"), n.ServiceCIDR, svc, ServiceCIDRPrefix,
			"kube-apiserver accepts at most 2^20 service addresses, and the 10th address is CoreDNS's")...)
	}
	switch {
	case !pod.IsValid() || !svc.IsValid():
	case pod.Addr().Is4() != svc.Addr().Is4():
		// Only reachable when the advertise address is invalid: otherwise
		// each CIDR was already compared with its family.
		errs = append(errs, field.Invalid(p.Child("serviceCIDR"), n.ServiceCIDR,
			"must be of the same IP family as networking.podCIDR: dual-stack is not supported"))
	case pod.Overlaps(svc):
		errs = append(errs, field.Invalid(p.Child("serviceCIDR"), n.ServiceCIDR,
			fmt.Sprintf("overlaps networking.podCIDR %s: service and pod addresses must be distinct", n.PodCIDR)))
	}
	if advertise.IsValid() {
		for _, r := range []struct {
			name   string
			prefix netip.Prefix
		}{{"serviceCIDR", svc}, {"podCIDR", pod}} {
			if r.prefix.IsValid() && r.prefix.Contains(advertise) {
				errs = append(errs, field.Invalid(field.NewPath("apiServer", "advertiseAddress"), advertise.String(),
					fmt.Sprintf("lies inside networking.%s %s: the node's address must be outside the cluster's virtual networks", r.name, r.prefix)))
			}
		}
	}
	errs = append(errs, dns1123(p.Child("dnsDomain"), n.DNSDomain, validation.IsDNS1123Subdomain)...)
	if !slices.Contains(CNIs, n.CNI) {
		errs = append(errs, field.NotSupported(p.Child("cni"), n.CNI, CNIs))
	}
	return errs
}

// parseCIDR returns the network, or an invalid prefix and why.
func parseCIDR(p *field.Path, s string, advertise netip.Addr) (netip.Prefix, field.ErrorList) {
	fail := func(detail string) (netip.Prefix, field.ErrorList) {
		return netip.Prefix{}, field.ErrorList{field.Invalid(p, s, detail)}
	}
	if s == "" {
		return netip.Prefix{}, field.ErrorList{field.Required(p, "a CIDR")}
	}
	if strings.Contains(s, ",") {
		return fail("dual-stack is not supported: give one CIDR of the advertise address's family")
	}
	pr, err := netip.ParsePrefix(s)
	switch {
	case err != nil:
		return fail("must be a CIDR such as 10.96.0.0/12 or fd00:10:96::/108")
	case pr.Addr().Is4In6():
		return fail("IPv4-mapped IPv6 prefixes are not supported")
	case pr != pr.Masked():
		return fail(fmt.Sprintf("has bits set after the prefix: did you mean %s?", pr.Masked()))
	case advertise.IsValid() && advertise.Is4() != pr.Addr().Is4():
		return fail(fmt.Sprintf("is %s but apiServer.advertiseAddress is %s: dual-stack is not supported, the cluster networks must be of the advertise address's family",
			family(pr.Addr()), family(advertise)))
	}
	return pr, nil
}

func checkSize(p *field.Path, s string, pr netip.Prefix, limits map[bool][2]int, why string) field.ErrorList {
	lim := limits[pr.Addr().Is6()]
	switch {
	case pr.Bits() < lim[0]:
		return field.ErrorList{field.Invalid(p, s, fmt.Sprintf("is too large: at most a /%d (%s): %s", lim[0], family(pr.Addr()), why))}
	case pr.Bits() > lim[1]:
		return field.ErrorList{field.Invalid(p, s, fmt.Sprintf("is too small: at least a /%d (%s): %s", lim[1], family(pr.Addr()), why))}
	}
	return nil
}

func family(a netip.Addr) string {
	if a.Is4() {
		return "IPv4"
	}
	return "IPv6"
}

func validateEtcd(c *BootstrapConfiguration, p *field.Path) field.ErrorList {
	var errs field.ErrorList
	e := &c.Etcd
	switch {
	case e.Local == nil && e.External == nil:
		errs = append(errs, field.Required(p, "set etcd.local or etcd.external"))
	case e.Local != nil && e.External != nil:
		errs = append(errs, field.Invalid(p, field.OmitValueType{}, "etcd.local and etcd.external are mutually exclusive: set exactly one"))
	}
	// With both set, SetDefaults left etcd.local undefaulted: its empty
	// ports would only bury the one error that matters.
	if l := e.Local; l != nil && e.External == nil {
		lp := p.Child("local")
		// Every port here is listened on by this node at the same time
		// during bootstrap (boot member, persistent member, apiserver).
		used := map[int32]string{c.APIServer.BindPort: "apiServer.bindPort"}
		for port, who := range ReservedHostPorts {
			used[port] = who
		}
		for _, port := range []struct {
			name string
			v    int32
		}{{"clientPort", l.ClientPort}, {"peerPort", l.PeerPort}, {"bootClientPort", l.BootClientPort}, {"bootPeerPort", l.BootPeerPort}} {
			pp := lp.Child(port.name)
			if perr := validatePort(pp, port.v); perr != nil {
				errs = append(errs, perr...)
				continue
			}
			if other, dup := used[port.v]; dup {
				errs = append(errs, &field.Error{Type: field.ErrorTypeDuplicate, Field: pp.String(), BadValue: port.v,
					Detail: "already used by " + other + ": every listener on the node needs its own port"})
				continue
			}
			used[port.v] = pp.String()
		}
		errs = append(errs, absPath(lp.Child("certDir"), l.CertDir)...)
		dataErrs := absPath(lp.Child("dataDir"), l.DataDir)
		bootErrs := absPath(lp.Child("bootDataDir"), l.BootDataDir)
		errs = append(append(errs, dataErrs...), bootErrs...)
		if len(dataErrs)+len(bootErrs) == 0 {
			d, b := path.Clean(l.DataDir), path.Clean(l.BootDataDir)
			switch {
			case d == "/":
				errs = append(errs, field.Invalid(lp.Child("dataDir"), l.DataDir, "must not be the root directory"))
			case b == "/":
				errs = append(errs, field.Invalid(lp.Child("bootDataDir"), l.BootDataDir, "must not be the root directory"))
			case d == b || strings.HasPrefix(b, d+"/") || strings.HasPrefix(d, b+"/"):
				errs = append(errs, field.Invalid(lp.Child("bootDataDir"), l.BootDataDir,
					"must be apart from etcd.local.dataDir (neither inside the other): the boot member and the persistent member run side by side"))
			}
		}
		errs = append(errs, validateExtraArgs(lp.Child("extraArgs"), "etcd.local", l.ExtraArgs)...)
	}
	if x := e.External; x != nil {
		xp := p.Child("external")
		if len(x.Endpoints) == 0 {
			errs = append(errs, field.Required(xp.Child("endpoints"), "at least one https:// URL of the etcd cluster"))
		}
		seen := map[string]bool{}
		for i, ep := range x.Endpoints {
			epp := xp.Child("endpoints").Index(i)
			if seen[ep] {
				errs = append(errs, field.Duplicate(epp, ep))
				continue
			}
			seen[ep] = true
			errs = append(errs, validateHTTPSURL(epp, ep, "https://etcd-0.example.com:2379")...)
		}
		for _, f := range []struct{ name, v string }{{"caFile", x.CAFile}, {"certFile", x.CertFile}, {"keyFile", x.KeyFile}} {
			if f.v == "" {
				errs = append(errs, field.Required(xp.Child(f.name), "the API server authenticates to an external etcd with a client certificate"))
				continue
			}
			errs = append(errs, absPath(xp.Child(f.name), f.v)...)
		}
	}
	return errs
}
