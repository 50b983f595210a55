package assets

import (
	"net"
	"strconv"

	"github.com/bootstrap-k8s/bootstrap/pkg/apis/bootstrap/v1alpha1"
)

// Where kube-apiserver listens, and why.
//
// The temporary apiserver binds the advertise address; kube-apiserver binds
// the wildcard address on the same port (both with SO_REUSEPORT). For a
// connection to the advertise address the kernel prefers the listener bound
// to that exact address, so until the temporary apiserver stops, clients of
// the advertise address (kubelet, admin) reach it alone; on loopback only
// kube-apiserver listens. That lets the controller-manager and scheduler
// (kubeconfigs on LoopbackURL) and kube-apiserver's own probes start together
// with kube-apiserver without ever seeing the temporary apiserver, and lets
// `bootstrap start` check kube-apiserver on loopback before it hands over.
// Afterwards the wildcard listener serves every address, as kubeadm's default
// bind address does.

// LoopbackURL is kube-apiserver on this node's loopback address.
func LoopbackURL(c *v1alpha1.BootstrapConfiguration) string {
	return "https://" + net.JoinHostPort(loopbackFor(c.APIServer.AdvertiseAddress), strconv.Itoa(int(c.APIServer.BindPort)))
}

func loopbackFor(advertise string) string {
	if ip := net.ParseIP(advertise); ip != nil && ip.To4() == nil {
		return "::1"
	}
	return "127.0.0.1"
}

func wildcardFor(advertise string) string {
	if ip := net.ParseIP(advertise); ip != nil && ip.To4() == nil {
		return "::"
	}
	return "0.0.0.0"
}
