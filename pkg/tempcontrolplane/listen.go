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

// Listen binds the API port, which Start then serves on; Start binds it
// itself if Listen was not called. Bound before etcd starts, a client's
// connection — the kubelet's, retrying since it started — waits in the
// listen backlog until the apiserver serves, instead of being refused and
// sent into its reflectors' exponential back-off, which made the kubelet see
// the first kube-apiserver pod up to seconds late. Stop closes the port
// again. (A recovery uses ListenAndHold: a connection merely in the backlog
// can cost a kubelet that reconstructed volumes 20 s.)
func (c *ControlPlane) Listen() error {
	if c.bound != nil {
		return nil
	}
	ln, err := listenShared(c.cfg.BindAddress, c.cfg.BindPort)
	if err != nil {
		return err
	}
	c.bound, c.listener = ln, newTrackingListener(ln)
	return nil
}

// ListenAndHold is Listen with a lobby on the port: until Start serves it,
// a request for one object (a kubelet's GET of its Node, which gates its
// volume mounts) is answered at once with 503, and lists, watches and
// writes wait and are then served by the apiserver (see lobby). A recovery
// binds the port this way before it restores etcd, which takes a second or
// more, where a merely bound port would stall such a GET for 20 s.
func (c *ControlPlane) ListenAndHold() error {
	if c.lobby != nil {
		return nil
	}
	if err := c.Listen(); err != nil {
		return err
	}
	l, err := openLobby(c.cfg.AssetDir, c.listener)
	if err != nil {
		c.closeBound()
		return err
	}
	c.lobby = l
	return nil
}

// closeBound closes the port bound by Listen when Start fails before its
// apiserver took it over.
func (c *ControlPlane) closeBound() {
	if c.bound != nil {
		c.listener.Close()
		if c.lobby != nil {
			ctx, cancel := context.WithTimeout(context.Background(), c.cfg.StopGracePeriod)
			c.lobby.shutdown(ctx)
			cancel()
			c.listener.closeAll()
		}
		c.bound, c.listener, c.lobby = nil, nil, nil
	}
}
