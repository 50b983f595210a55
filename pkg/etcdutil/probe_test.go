package etcdutil

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/bootstrap-k8s/bootstrap/internal/testetcd"
)

func TestProbe(t *testing.T) {
	dir := testetcd.RenderAssets(t)
	other := testetcd.RenderAssets(t) // another cluster's asset dir: other CAs
	m := testetcd.Start(t, dir, testetcd.Member{Name: "node-1"})
	plain := httptest.NewServer(http.NotFoundHandler())
	defer plain.Close()
	closed := fmt.Sprintf("https://127.0.0.1:%d", testetcd.FreePort(t))

	tests := []struct {
		name, assetDir, endpoint string
		want                     string // "" for success
	}{
		{"the member", dir, m.ClientURL, ""},
		{"nothing listening", dir, closed, "nothing listens there"},
		{"accepts and never answers", dir, testetcd.SilentListener(t), "does not complete a TLS handshake within 5s"},
		{"plain HTTP behind https://", dir, "https://" + plain.Listener.Addr().String(), "does not speak TLS"},
		{"http:// URL", dir, plain.URL, "only over TLS"},
		{"no port", dir, "https://127.0.0.1", "has no port"},
		{"not a URL", dir, "127.0.0.1:2379", "is not a URL"},
		{"another cluster's member (wrong CA)", other, m.ClientURL, "not signed by this asset dir's etcd CA"},
		{"TLS with the right CA, then silence", dir, testetcd.SilentTLSListener(t, dir), ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			begin := time.Now()
			err := ProbeEndpoint(context.Background(), tt.assetDir, tt.endpoint)
			took := time.Since(begin)
			if took > DialTimeout+2*time.Second {
				t.Errorf("took %s", took)
			}
			switch {
			case tt.want == "" && err != nil:
				t.Errorf("probe failed: %v", err)
			case tt.want != "" && (err == nil || !strings.Contains(err.Error(), tt.want)):
				t.Errorf("error %v, want one containing %q", err, tt.want)
			case tt.want != "" && !strings.Contains(err.Error(), tt.endpoint):
				t.Errorf("error %v does not name the endpoint", err)
			}
		})
	}
}

// TestProbeRefusedClientCertificate: a member of another cluster that
// checks client certificates refuses this asset dir's one, even when the
// server certificate is trusted (here: trust forced for the test).
func TestProbeRefusedClientCertificate(t *testing.T) {
	dir := testetcd.RenderAssets(t)
	other := testetcd.RenderAssets(t)
	m := testetcd.Start(t, other, testetcd.Member{Name: "node-1"})
	cfg, err := Config(dir, m.ClientURL)
	if err != nil {
		t.Fatal(err)
	}
	otherCfg, err := Config(other, m.ClientURL)
	if err != nil {
		t.Fatal(err)
	}
	cfg.TLS.RootCAs = otherCfg.TLS.RootCAs // trust the server, present our client cert
	err = Probe(context.Background(), cfg.TLS, m.ClientURL)
	if err == nil || !strings.Contains(err.Error(), "refused this asset dir's client certificate") {
		t.Errorf("probe with a client certificate of another CA: %v", err)
	}
}
