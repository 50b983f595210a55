package tempcontrolplane

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
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

// PortHolder says which process listens on host:port ("kube-apiserver (pid
// 1234)"), or "" when nothing does. listenShared would silently join such a
// listener: the kernel spreads new connections over every SO_REUSEPORT
// socket of the same UID, so a temporary apiserver on a live node's port
// answers a share of its clients from an empty etcd. Callers that are not
// the hand-over of `bootstrap start` ask first.
func PortHolder(host string, port int) string {
	// A plain bind (no SO_REUSEPORT) fails whenever any socket listens on
	// that address or the wildcard one.
	l, err := net.Listen("tcp", net.JoinHostPort(host, fmt.Sprint(port)))
	if err == nil {
		l.Close()
		return ""
	}
	if !errors.Is(err, syscall.EADDRINUSE) {
		return "" // not ours to judge: listenShared reports it
	}
	inodes := listeningInodes(port)
	if pid, comm := socketOwner(inodes); pid != "" {
		return fmt.Sprintf("%s (pid %s)", comm, pid)
	}
	return fmt.Sprintf("a process this user cannot see (find it with `ss -ltnp 'sport = :%d'` as root)", port)
}

// listeningInodes are the socket inodes listening on port, from
// /proc/net/tcp and tcp6 (state 0A is LISTEN).
func listeningInodes(port int) map[string]bool {
	inodes := map[string]bool{}
	want := fmt.Sprintf(":%04X", port)
	for _, f := range []string{"/proc/net/tcp", "/proc/net/tcp6"} {
		data, err := os.ReadFile(f)
		if err != nil {
			continue
		}
		for _, line := range strings.Split(string(data), "\n")[1:] {
			fields := strings.Fields(line)
			if len(fields) > 9 && strings.HasSuffix(fields[1], want) && fields[3] == "0A" {
				inodes[fields[9]] = true
			}
		}
	}
	return inodes
}

// socketOwner finds a process holding one of the socket inodes.
func socketOwner(inodes map[string]bool) (pid, comm string) {
	if len(inodes) == 0 {
		return "", ""
	}
	procs, _ := os.ReadDir("/proc")
	for _, p := range procs {
		if _, err := strconv.Atoi(p.Name()); err != nil {
			continue
		}
		fds, _ := os.ReadDir(filepath.Join("/proc", p.Name(), "fd"))
		for _, fd := range fds {
			target, err := os.Readlink(filepath.Join("/proc", p.Name(), "fd", fd.Name()))
			if err != nil {
				continue
			}
			if ino, ok := strings.CutPrefix(target, "socket:["); ok && inodes[strings.TrimSuffix(ino, "]")] {
				name, _ := os.ReadFile(filepath.Join("/proc", p.Name(), "comm"))
				return p.Name(), strings.TrimSpace(string(name))
			}
		}
	}
	return "", ""
}
