package csrapprover

import (
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"net"
	"slices"
	"strings"

	certificatesv1 "k8s.io/api/certificates/v1"
	corev1 "k8s.io/api/core/v1"
)

const (
	// NodeUserPrefix starts the user name of every node credential.
	NodeUserPrefix = "system:node:"
	// NodesGroup is the group of every node credential.
	NodesGroup = "system:nodes"
)

// ErrNodeNotFound wraps a check that could not be made because the request's
// Node does not exist (yet): the request is retried, not judged.
var ErrNodeNotFound = errors.New("node not found")

// IsKubeletServing tells whether a request is for the signer this package
// approves for.
func IsKubeletServing(csr *certificatesv1.CertificateSigningRequest) bool {
	return csr.Spec.SignerName == certificatesv1.KubeletServingSignerName
}

// IsDecided tells whether a request was already approved, denied or failed:
// those are never touched again.
func IsDecided(csr *certificatesv1.CertificateSigningRequest) bool {
	for _, c := range csr.Status.Conditions {
		switch c.Type {
		case certificatesv1.CertificateApproved, certificatesv1.CertificateDenied, certificatesv1.CertificateFailed:
			return true
		}
	}
	return false
}

// NodeName is the node a request claims to come from ("" if its requester
// is no node).
func NodeName(csr *certificatesv1.CertificateSigningRequest) string {
	if !strings.HasPrefix(csr.Spec.Username, NodeUserPrefix) {
		return ""
	}
	return strings.TrimPrefix(csr.Spec.Username, NodeUserPrefix)
}

// Validate returns nil if a kubelet-serving request may be approved for
// node, else what is wrong with it. node is the Node named by the requester
// (NodeName); nil means it does not exist, which wraps ErrNodeNotFound.
func Validate(csr *certificatesv1.CertificateSigningRequest, node *corev1.Node) error {
	if !IsKubeletServing(csr) {
		return fmt.Errorf("signer %q is not %s", csr.Spec.SignerName, certificatesv1.KubeletServingSignerName)
	}
	name := NodeName(csr)
	if name == "" {
		return fmt.Errorf("requested by %q, not by a node credential (%s<name>)", csr.Spec.Username, NodeUserPrefix)
	}
	if !slices.Contains(csr.Spec.Groups, NodesGroup) {
		return fmt.Errorf("requester %q is not in the group %s (groups %v)", csr.Spec.Username, NodesGroup, csr.Spec.Groups)
	}
	req, err := parseRequest(csr.Spec.Request)
	if err != nil {
		return err
	}
	if err := checkSubject(req, csr.Spec.Username); err != nil {
		return err
	}
	if err := checkUsages(csr.Spec.Usages); err != nil {
		return err
	}
	if len(req.EmailAddresses) > 0 || len(req.URIs) > 0 {
		return fmt.Errorf("email (%v) or URI (%v) SANs are not allowed in a serving certificate", req.EmailAddresses, req.URIs)
	}
	if len(req.DNSNames) == 0 && len(req.IPAddresses) == 0 {
		return errors.New("no DNS or IP SAN: a serving certificate must name the node")
	}
	if node == nil {
		return fmt.Errorf("%w: %s", ErrNodeNotFound, name)
	}
	return checkSANs(req, node)
}

func parseRequest(data []byte) (*x509.CertificateRequest, error) {
	block, _ := pem.Decode(data)
	if block == nil || block.Type != "CERTIFICATE REQUEST" {
		return nil, errors.New("spec.request is not a PEM CERTIFICATE REQUEST")
	}
	req, err := x509.ParseCertificateRequest(block.Bytes)
	if err != nil {
		return nil, fmt.Errorf("spec.request: %w", err)
	}
	if err := req.CheckSignature(); err != nil {
		return nil, fmt.Errorf("spec.request: signature: %w", err)
	}
	return req, nil
}

// checkSubject: CN is the requester, O exactly system:nodes, and no other
// subject field, so that the certificate claims nothing the node is not.
func checkSubject(req *x509.CertificateRequest, user string) error {
	s := req.Subject
	if s.CommonName != user {
		return fmt.Errorf("subject CN %q is not the requester %q", s.CommonName, user)
	}
	if len(s.Organization) != 1 || s.Organization[0] != NodesGroup {
		return fmt.Errorf("subject O %v, want exactly [%s]", s.Organization, NodesGroup)
	}
	if len(s.OrganizationalUnit)+len(s.Country)+len(s.Province)+len(s.Locality)+len(s.StreetAddress)+len(s.PostalCode)+len(s.ExtraNames) > 0 || s.SerialNumber != "" {
		return fmt.Errorf("subject %q has fields besides CN and O", s.String())
	}
	return nil
}

// checkUsages: server auth and digital signature are required, key
// encipherment is allowed (RSA keys), anything else is refused.
func checkUsages(usages []certificatesv1.KeyUsage) error {
	var server, signature bool
	for _, u := range usages {
		switch u {
		case certificatesv1.UsageServerAuth:
			server = true
		case certificatesv1.UsageDigitalSignature:
			signature = true
		case certificatesv1.UsageKeyEncipherment:
		default:
			return fmt.Errorf("usage %q is not allowed (only %q, %q, %q)", u,
				certificatesv1.UsageDigitalSignature, certificatesv1.UsageServerAuth, certificatesv1.UsageKeyEncipherment)
		}
	}
	if !server || !signature {
		return fmt.Errorf("usages %v lack %q or %q", usages, certificatesv1.UsageDigitalSignature, certificatesv1.UsageServerAuth)
	}
	return nil
}

// checkSANs: every SAN is a host name or an address the Node reports, so a
// node's credential can get a certificate for itself only.
func checkSANs(req *x509.CertificateRequest, node *corev1.Node) error {
	names := map[string]bool{}
	var ips []net.IP
	for _, a := range node.Status.Addresses {
		switch a.Type {
		case corev1.NodeHostName, corev1.NodeInternalDNS, corev1.NodeExternalDNS:
			names[strings.ToLower(a.Address)] = true
		case corev1.NodeInternalIP, corev1.NodeExternalIP:
			if ip := net.ParseIP(a.Address); ip != nil {
				ips = append(ips, ip)
			}
		}
	}
	for _, d := range req.DNSNames {
		if !names[strings.ToLower(d)] {
			return fmt.Errorf("DNS SAN %q is not a host name of node %s (status.addresses %v)", d, node.Name, addresses(node))
		}
	}
	for _, ip := range req.IPAddresses {
		if !slices.ContainsFunc(ips, ip.Equal) {
			return fmt.Errorf("IP SAN %s is not an address of node %s (status.addresses %v)", ip, node.Name, addresses(node))
		}
	}
	return nil
}

func addresses(n *corev1.Node) []string {
	var out []string
	for _, a := range n.Status.Addresses {
		out = append(out, string(a.Type)+"="+a.Address)
	}
	return out
}
