package testetcd

import (
	"crypto/tls"
	"net"
	"testing"

	"github.com/bootstrap-k8s/bootstrap/pkg/assets"
)

// SilentListener accepts TCP connections (the kernel completes the
// handshake) and never says a word: the "unroutable or hung" case, on
// loopback only.
func SilentListener(t testing.TB) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	acceptForever(t, l, func(net.Conn) {})
	return "https://" + l.Addr().String()
}

// SilentTLSListener serves TLS with the given asset dir's etcd server
// certificate and then says nothing: a member whose TLS works but which
// never answers.
func SilentTLSListener(t testing.TB, dir string) string {
	t.Helper()
	cert, err := tls.LoadX509KeyPair(assets.Path(dir, assets.EtcdServerCert), assets.Path(dir, assets.EtcdServerKey))
	if err != nil {
		t.Fatal(err)
	}
	l, err := tls.Listen("tcp", "127.0.0.1:0", &tls.Config{Certificates: []tls.Certificate{cert}})
	if err != nil {
		t.Fatal(err)
	}
	acceptForever(t, l, func(c net.Conn) { go c.(*tls.Conn).Handshake() })
	return "https://" + l.Addr().String()
}

// acceptForever accepts until test cleanup, holding every connection open.
func acceptForever(t testing.TB, l net.Listener, each func(net.Conn)) {
	t.Cleanup(func() { l.Close() })
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			each(c)
			t.Cleanup(func() { c.Close() })
		}
	}()
}
