package endpoints

import (
	"net"
	"strconv"

	"github.com/bootstrap-k8s/bootstrap/pkg/apis/bootstrap/v1alpha1"
)

// HTTPS is https://host:port.
func HTTPS(host string, port int32) string {
	return "https://" + net.JoinHostPort(host, strconv.Itoa(int(port)))
}

// The etcd members listen on the advertise address; a configuration with
// external etcd (Etcd.Local nil) has no local member: these panic then, so
// callers check Etcd.Local first, as they must anyway.

// EtcdClient is the client URL of the persistent etcd member.
func EtcdClient(cfg *v1alpha1.BootstrapConfiguration) string {
	return HTTPS(cfg.APIServer.AdvertiseAddress, cfg.Etcd.Local.ClientPort)
}

// EtcdClientAddress is EtcdClient's host:port, for a plain TCP dial.
func EtcdClientAddress(cfg *v1alpha1.BootstrapConfiguration) string {
	return net.JoinHostPort(cfg.APIServer.AdvertiseAddress, strconv.Itoa(int(cfg.Etcd.Local.ClientPort)))
}

// EtcdLoopbackClient is the persistent member's client URL on loopback,
// where bootstrap and the node's own kube-apiserver reach it.
func EtcdLoopbackClient(cfg *v1alpha1.BootstrapConfiguration) string {
	return HTTPS("127.0.0.1", cfg.Etcd.Local.ClientPort)
}

// EtcdPeer is the peer URL of the persistent etcd member.
func EtcdPeer(cfg *v1alpha1.BootstrapConfiguration) string {
	return HTTPS(cfg.APIServer.AdvertiseAddress, cfg.Etcd.Local.PeerPort)
}

// BootEtcdPeer is the peer URL of the boot etcd member.
func BootEtcdPeer(cfg *v1alpha1.BootstrapConfiguration) string {
	return HTTPS(cfg.APIServer.AdvertiseAddress, cfg.Etcd.Local.BootPeerPort)
}

// BootEtcdClient is the client URL of the boot etcd member on loopback,
// where bootstrap itself reaches it.
func BootEtcdClient(port int32) string { return HTTPS("127.0.0.1", port) }
