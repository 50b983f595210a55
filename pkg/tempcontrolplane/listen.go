package tempcontrolplane

import (
	"context"
	"fmt"
	"net"
	"syscall"

	"golang.org/x/sys/unix"
)

// listenShared binds with SO_REUSEPORT, as kube-apiserver's
// --permit-port-sharing does, so that the self-hosted kube-apiserver can bind
// the same address:port while this one still serves. The kernel only lets
// sockets of the same effective UID share a port.
//
// (k8s.io/apiserver's SecureServingOptions.PermitPortSharing does the same,
// but importing that options package drags in the KMS encryption providers.)
func listenShared(host string, port int) (net.Listener, error) {
	lc := net.ListenConfig{Control: func(network, address string, rc syscall.RawConn) error {
		var serr error
		if err := rc.Control(func(fd uintptr) {
			serr = unix.SetsockoptInt(int(fd), unix.SOL_SOCKET, unix.SO_REUSEPORT, 1)
		}); err != nil {
			return err
		}
		return serr
	}}
	addr := net.JoinHostPort(host, fmt.Sprint(port))
	ln, err := lc.Listen(context.Background(), "tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("apiserver port %d on %s is not available: %w (a process holds it without SO_REUSEPORT or under another user: "+
			"stop it, or run the self-hosted kube-apiserver with --permit-port-sharing under the same UID)", port, host, err)
	}
	return ln, nil
}
