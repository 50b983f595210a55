package v1alpha1

import (
	"strings"
	"testing"
)

// TestControlPlaneEndpoint: the forms an endpoint may take, the externalURL
// each defaults to, and the ones refused with their reason.
func TestControlPlaneEndpoint(t *testing.T) {
	for _, tc := range []struct {
		endpoint, externalURL string
		wantURL, wantErr      string
	}{
		{"lb.example.com", "", "https://lb.example.com:6443", ""},
		{"lb.example.com:443", "", "https://lb.example.com:443", ""},
		{"10.0.0.100:6443", "", "https://10.0.0.100:6443", ""},
		{"[2001:db8::1]:6443", "", "https://[2001:db8::1]:6443", ""},
		{"2001:db8::1", "", "https://[2001:db8::1]:6443", ""},
		{"lb.example.com:6443", "https://lb.example.com:6443", "https://lb.example.com:6443", ""},
		{"lb.example.com:0", "", "", "between 1 and 65535"},
		{"lb.example.com:http", "", "", "between 1 and 65535"},
		{":6443", "", "", "must name a host"},
		{"127.0.0.1:6443", "", "", "loopback"},
		{"lb_1.example.com", "", "", "must be an IP address or a DNS name"},
		{"https://lb.example.com:6443", "", "", "host or host:port"},
		{"lb.example.com:6443", "https://other.example.com:6443", "", "contradicts controlPlaneEndpoint"},
	} {
		t.Run(tc.endpoint, func(t *testing.T) {
			c := &BootstrapConfiguration{}
			c.APIServer.AdvertiseAddress = "192.168.1.10"
			c.APIServer.ControlPlaneEndpoint = tc.endpoint
			c.APIServer.ExternalURL = tc.externalURL
			c.Node.Name = "node-1"
			SetDefaults(c)
			err := Validate(c).ToAggregate()
			if tc.wantErr == "" {
				if err != nil {
					t.Fatalf("Validate: %v", err)
				}
				if c.APIServer.ExternalURL != tc.wantURL {
					t.Errorf("externalURL %q, want %q", c.APIServer.ExternalURL, tc.wantURL)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
				t.Fatalf("Validate: %v, want an error with %q", err, tc.wantErr)
			}
		})
	}
}
