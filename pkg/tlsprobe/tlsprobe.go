package tlsprobe

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"time"
)

// Served connects to addr (host:port), completes a TLS handshake within
// timeout and returns the leaf certificate the server presented. base may
// carry a client certificate (servers that require one, such as etcd, end
// the handshake without it); the server's certificate is read, not
// verified: the caller judges it (expiry, issuer).
func Served(ctx context.Context, addr string, base *tls.Config, timeout time.Duration) (*x509.Certificate, error) {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	cfg := &tls.Config{MinVersion: tls.VersionTLS12}
	if base != nil {
		cfg = base.Clone()
	}
	var leaf *x509.Certificate
	cfg.InsecureSkipVerify = true // read, not trusted: nothing is sent
	cfg.VerifyPeerCertificate = func(raw [][]byte, _ [][]*x509.Certificate) error {
		if len(raw) == 0 {
			return errors.New("the server presented no certificate")
		}
		c, err := x509.ParseCertificate(raw[0])
		if err != nil {
			return err
		}
		leaf = c
		return nil
	}
	if host, _, err := net.SplitHostPort(addr); err == nil && cfg.ServerName == "" && net.ParseIP(host) == nil {
		cfg.ServerName = host
	}
	d := tls.Dialer{NetDialer: &net.Dialer{Timeout: timeout}, Config: cfg}
	conn, err := d.DialContext(ctx, "tcp", addr)
	if conn != nil {
		conn.Close()
	}
	if leaf != nil {
		// A server that refused our (missing) client certificate after
		// presenting its own still told us what it serves.
		return leaf, nil
	}
	if err != nil {
		return nil, fmt.Errorf("TLS handshake with %s: %w", addr, err)
	}
	return nil, fmt.Errorf("TLS handshake with %s: no certificate", addr)
}
