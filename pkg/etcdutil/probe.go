package etcdutil

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"net/url"
	"os"
	"syscall"
	"time"
)

// DialTimeout bounds each connection attempt to an etcd endpoint: a member
// on a reachable network answers a TCP handshake and a TLS handshake well
// within it.
const DialTimeout = 5 * time.Second

// ParseEndpoint checks that ep is an etcd client URL bootstrap can use
// (https://host:port; etcd is only ever reached over TLS) and returns its
// host:port.
func ParseEndpoint(ep string) (string, error) {
	u, err := url.Parse(ep)
	if err != nil || u.Host == "" {
		return "", fmt.Errorf("etcd endpoint %q is not a URL: give client URLs like https://10.0.0.1:2379", ep)
	}
	if u.Scheme != "https" {
		return "", fmt.Errorf("etcd endpoint %q: bootstrap reaches etcd only over TLS with client certificates; give https://%s", ep, u.Host)
	}
	if u.Port() == "" {
		return "", fmt.Errorf("etcd endpoint %q has no port: give it, e.g. https://%s:2379", ep, u.Hostname())
	}
	return u.Host, nil
}

// Probe connects to ep once with the TLS configuration tlsCfg and says, if
// it cannot, why in words an operator can act on: nothing listening, no
// answer, not TLS, a certificate of another CA, or a client certificate the
// server refuses. Every step is bounded by DialTimeout and ctx.
func Probe(ctx context.Context, tlsCfg *tls.Config, ep string) error {
	hostport, err := ParseEndpoint(ep)
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(ctx, DialTimeout)
	defer cancel()
	d := net.Dialer{}
	conn, err := d.DialContext(ctx, "tcp", hostport)
	if err != nil {
		return fmt.Errorf("cannot reach etcd at %s: %s", ep, dialCause(err))
	}
	defer conn.Close()
	cfg := tlsCfg.Clone()
	if cfg.ServerName == "" {
		host, _, _ := net.SplitHostPort(hostport)
		cfg.ServerName = host
	}
	tc := tls.Client(conn, cfg)
	if err := tc.HandshakeContext(ctx); err != nil {
		return fmt.Errorf("cannot reach etcd at %s: %s", ep, handshakeCause(err))
	}
	// TLS 1.3 reports a refused client certificate only on the first read;
	// an etcd member speaks HTTP/2 and waits for the client's preface, so a
	// short read that times out means the certificate was accepted.
	tc.SetReadDeadline(time.Now().Add(200 * time.Millisecond))
	if _, err := tc.Read(make([]byte, 1)); err != nil && !isTimeout(err) && !errors.Is(err, os.ErrDeadlineExceeded) {
		return fmt.Errorf("cannot reach etcd at %s: %s", ep, handshakeCause(err))
	}
	return nil
}

func dialCause(err error) string {
	switch {
	case errors.Is(err, syscall.ECONNREFUSED):
		return "connection refused: nothing listens there (is etcd running? is the port right?)"
	case errors.Is(err, context.DeadlineExceeded) || isTimeout(err):
		return fmt.Sprintf("no answer within %s: the address is unreachable or a firewall drops the packets", DialTimeout)
	case errors.Is(err, context.Canceled):
		return "interrupted"
	case errors.Is(err, syscall.EHOSTUNREACH) || errors.Is(err, syscall.ENETUNREACH):
		return fmt.Sprintf("%v: no route to that address", err)
	}
	return err.Error()
}

func handshakeCause(err error) string {
	var rh tls.RecordHeaderError
	var ua x509.UnknownAuthorityError
	var he x509.HostnameError
	var ci x509.CertificateInvalidError
	var remote *net.OpError
	switch {
	case errors.As(err, &rh):
		return "it does not speak TLS (a plain http:// server, or not etcd at all): etcd must serve clients over https"
	case errors.As(err, &ua):
		return "its certificate is not signed by this asset dir's etcd CA (tls/etcd/ca.crt): wrong CA, or the asset dir of another cluster"
	case errors.As(err, &he):
		return fmt.Sprintf("its certificate does not name this address (%v): use an address its certificate names, or re-render with it", he)
	case errors.As(err, &ci):
		return fmt.Sprintf("its certificate is not valid (%v)", ci)
	case errors.As(err, &remote) && remote.Op == "remote error":
		return fmt.Sprintf("it refused this asset dir's client certificate (%v): it trusts another etcd CA; is this the asset dir of that cluster?", err)
	case errors.Is(err, context.DeadlineExceeded) || isTimeout(err):
		return fmt.Sprintf("it accepts connections but does not complete a TLS handshake within %s (hung, or not etcd)", DialTimeout)
	}
	return fmt.Sprintf("TLS handshake failed: %v", err)
}

func isTimeout(err error) bool {
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout()
}

// ProbeEndpoint is Probe with the asset dir's etcd client credentials: a
// caller whose etcd call failed (with only "context deadline exceeded")
// can ask it why.
func ProbeEndpoint(ctx context.Context, assetDir, ep string) error {
	cfg, err := Config(assetDir, ep)
	if err != nil {
		return err
	}
	return Probe(ctx, cfg.TLS, ep)
}
