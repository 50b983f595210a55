package tlsprobe

import (
	"context"
	"crypto/tls"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

// TestServed: the leaf a server presents, also when it requires a client
// certificate the prober does not have; a closed port fails within the
// timeout.
func TestServed(t *testing.T) {
	srv := httptest.NewTLSServer(http.NotFoundHandler())
	defer srv.Close()
	want := srv.Certificate()
	addr := strings.TrimPrefix(srv.URL, "https://")
	got, err := Served(context.Background(), addr, nil, 2*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	if got.SerialNumber.Cmp(want.SerialNumber) != 0 || !got.NotAfter.Equal(want.NotAfter) {
		t.Errorf("served serial %s, want %s", got.SerialNumber, want.SerialNumber)
	}

	strict := httptest.NewUnstartedServer(http.NotFoundHandler())
	strict.TLS = &tls.Config{ClientAuth: tls.RequireAnyClientCert}
	strict.StartTLS()
	defer strict.Close()
	if got, err := Served(context.Background(), strings.TrimPrefix(strict.URL, "https://"), nil, 2*time.Second); err != nil || got.SerialNumber.Cmp(strict.Certificate().SerialNumber) != 0 {
		t.Errorf("a server requiring a client certificate: %v, %v", got, err)
	}

	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	closed := l.Addr().String()
	l.Close()
	begin := time.Now()
	if _, err := Served(context.Background(), closed, nil, time.Second); err == nil {
		t.Error("a closed port served a certificate")
	}
	if time.Since(begin) > 2*time.Second {
		t.Errorf("a closed port took %s", time.Since(begin))
	}
}
