package v1alpha1

import (
	"fmt"
	"net"
	"net/netip"
	"strconv"
	"strings"

	"k8s.io/apimachinery/pkg/util/validation"
	"k8s.io/apimachinery/pkg/util/validation/field"
)

// ControlPlaneEndpointHostPort splits apiServer.controlPlaneEndpoint into
// host and port (bindPort when it names none), or says what is wrong with it.
func ControlPlaneEndpointHostPort(a *APIServer) (string, int32, error) {
	s := a.ControlPlaneEndpoint
	if strings.Contains(s, "://") {
		return "", 0, fmt.Errorf("must be host or host:port without a scheme, e.g. k8s.example.com:6443 (externalURL is the URL form)")
	}
	host, portStr := s, ""
	if h, p, err := net.SplitHostPort(s); err == nil {
		host, portStr = h, p
	} else if strings.Count(s, ":") == 1 || strings.HasPrefix(s, "[") {
		return "", 0, fmt.Errorf("must be host or host:port (an IPv6 address in brackets with a port), e.g. k8s.example.com:6443")
	}
	port := a.BindPort
	if portStr != "" {
		n, err := strconv.Atoi(portStr)
		if err != nil || n < 1 || n > 65535 {
			return "", 0, fmt.Errorf("port %q must be a number between 1 and 65535", portStr)
		}
		port = int32(n)
	}
	if host == "" {
		return "", 0, fmt.Errorf("must name a host: a load balancer's DNS name or IP address, e.g. k8s.example.com:6443")
	}
	if ip, err := netip.ParseAddr(host); err == nil {
		if _, msg := parseUnicast(host); msg != "" {
			return "", 0, fmt.Errorf("host %s %s", host, msg)
		}
		if ip.Zone() != "" {
			return "", 0, fmt.Errorf("host %s must not carry a zone", host)
		}
		return host, port, nil
	}
	if msgs := validation.IsDNS1123Subdomain(host); len(msgs) > 0 {
		return "", 0, fmt.Errorf("host %q must be an IP address or a DNS name: %s", host, strings.Join(msgs, "; "))
	}
	return host, port, nil
}

// ControlPlaneEndpointURL is https://<controlPlaneEndpoint> with its port.
func ControlPlaneEndpointURL(a *APIServer) (string, error) {
	host, port, err := ControlPlaneEndpointHostPort(a)
	if err != nil {
		return "", err
	}
	return "https://" + joinHostPort(host, port), nil
}

// validateControlPlaneEndpoint checks the endpoint and that externalURL, when
// set apart from it, does not point elsewhere: nodes would follow one and
// the certificate carry the other.
func validateControlPlaneEndpoint(a *APIServer, p *field.Path) field.ErrorList {
	if a.ControlPlaneEndpoint == "" {
		return nil
	}
	u, err := ControlPlaneEndpointURL(a)
	if err != nil {
		return field.ErrorList{field.Invalid(p.Child("controlPlaneEndpoint"), a.ControlPlaneEndpoint, err.Error())}
	}
	if a.ExternalURL != "" && strings.TrimSuffix(a.ExternalURL, "/") != u {
		return field.ErrorList{field.Invalid(p.Child("externalURL"), a.ExternalURL,
			fmt.Sprintf("contradicts controlPlaneEndpoint %s (%s): leave externalURL out, it defaults to the endpoint", a.ControlPlaneEndpoint, u))}
	}
	return nil
}
