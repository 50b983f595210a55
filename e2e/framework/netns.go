//go:build e2e

package framework

import (
	"context"
	"crypto/tls"
	"fmt"
	"net"
	"net/http"
	"os"
	"runtime"
	"time"

	"golang.org/x/sys/unix"
)

// NetnsHTTPClient returns an HTTP client whose connections are made inside the
// node's network namespace. Some endpoints listen only on the node's loopback
// (kubeadm binds kube-scheduler :10259 and kube-controller-manager :10257 to
// 127.0.0.1), and exec'ing a prober into the netns 10 times a second would
// itself load this 2-core machine. TLS is not verified: the client is for
// health endpoints only.
func (n *Node) NetnsHTTPClient() *http.Client {
	return &http.Client{Transport: n.netnsTransport(nil), Timeout: 2 * time.Second}
}

// netnsTransport dials inside the node's netns, one connection per request,
// presenting certs (if any) and not verifying the server.
func (n *Node) netnsTransport(certs []tls.Certificate) *http.Transport {
	nsPath := "/run/netns/" + n.Netns
	return &http.Transport{
		TLSClientConfig:   &tls.Config{InsecureSkipVerify: true, Certificates: certs}, //nolint:gosec // health checks and diagnostics only
		DisableKeepAlives: true,
		DialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
			return dialInNetns(ctx, nsPath, network, addr)
		},
	}
}

// dialInNetns creates the socket on an OS thread switched into the netns (a
// socket belongs to the namespace of the thread that created it) and switches
// the thread back. If switching back fails, the thread stays locked and is
// discarded when the goroutine ends, so no other goroutine ever runs in the netns.
func dialInNetns(ctx context.Context, nsPath, network, addr string) (net.Conn, error) {
	type result struct {
		c   net.Conn
		err error
	}
	ch := make(chan result, 1)
	go func() {
		runtime.LockOSThread()
		orig, err := os.Open("/proc/thread-self/ns/net")
		if err != nil {
			runtime.UnlockOSThread()
			ch <- result{err: err}
			return
		}
		defer orig.Close()
		target, err := os.Open(nsPath)
		if err != nil {
			runtime.UnlockOSThread()
			ch <- result{err: err}
			return
		}
		defer target.Close()
		if err := setns(target); err != nil {
			runtime.UnlockOSThread()
			ch <- result{err: fmt.Errorf("setns %s: %w", nsPath, err)}
			return
		}
		c, err := (&net.Dialer{Timeout: 2 * time.Second}).DialContext(ctx, network, addr)
		if setns(orig) == nil {
			runtime.UnlockOSThread()
		}
		ch <- result{c, err}
	}()
	r := <-ch
	return r.c, r.err
}

func setns(f *os.File) error { return unix.Setns(int(f.Fd()), unix.CLONE_NEWNET) }
