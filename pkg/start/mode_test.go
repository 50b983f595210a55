package start

import (
	"context"
	"strings"
	"testing"

	"github.com/bootstrap-k8s/bootstrap/pkg/apis/bootstrap/v1alpha1"
)

func TestPreflightPerMode(t *testing.T) {
	cfg := &v1alpha1.BootstrapConfiguration{}
	cfg.APIServer.AdvertiseAddress = "10.0.0.2"
	cfg.Node.Name = "n"
	v1alpha1.SetDefaults(cfg)
	restore := func(context.Context, *v1alpha1.BootstrapConfiguration) error { return nil }
	identity := func(context.Context) error { return nil }
	for _, tc := range []struct {
		name        string
		o           Options
		resumed     bool
		want        string
		kubeletWarn bool
	}{
		{"fresh", Options{}, false, "Root AssetDir ExternalEtcd APIServerPort BootEtcdPorts EtcdPorts EtcdDataDir StaticPodPath Kubelet", true},
		{"fresh resumed", Options{}, true, "Root AssetDir ExternalEtcd BootEtcdPorts EtcdPorts EtcdDataDir StaticPodPath Kubelet", true},
		{"restore", Options{Mode: Restore, Recovery: Recovery{Restore: restore, ClusterIdentity: identity}}, false,
			"Root AssetDir ExternalEtcd APIServerPort EtcdPorts StaticPodPath Kubelet ClusterIdentity", false},
		{"running etcd", Options{Mode: RunningEtcd, Recovery: Recovery{EtcdEndpoints: []string{"https://10.0.0.2:2379"}, ClusterIdentity: identity}}, false,
			"Root AssetDir ExternalEtcd APIServerPort StaticPodPath Kubelet ClusterIdentity", false},
		{"running etcd, no identity check", Options{Mode: RunningEtcd, Recovery: Recovery{EtcdEndpoints: []string{"https://x:2379"}}}, true,
			"Root AssetDir ExternalEtcd StaticPodPath Kubelet", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if err := tc.o.validateMode(); err != nil {
				t.Fatal(err)
			}
			var names []string
			for _, c := range preflightFor(tc.o, cfg, tc.resumed) {
				names = append(names, c.Name)
				if c.Name == "Kubelet" && c.Warn != tc.kubeletWarn {
					t.Errorf("Kubelet warn = %v, want %v", c.Warn, tc.kubeletWarn)
				}
			}
			if got := strings.Join(names, " "); got != tc.want {
				t.Errorf("checks\n got %s\nwant %s", got, tc.want)
			}
		})
	}
}

func TestValidateMode(t *testing.T) {
	restore := func(context.Context, *v1alpha1.BootstrapConfiguration) error { return nil }
	for _, tc := range []struct {
		name string
		o    Options
		ok   bool
	}{
		{"fresh", Options{}, true},
		{"fresh with recovery hooks", Options{Recovery: Recovery{Restore: restore}}, false},
		{"restore without hook", Options{Mode: Restore}, false},
		{"restore", Options{Mode: Restore, Recovery: Recovery{Restore: restore}}, true},
		{"running etcd without endpoints", Options{Mode: RunningEtcd}, false},
		{"running etcd with restore", Options{Mode: RunningEtcd, Recovery: Recovery{EtcdEndpoints: []string{"u"}, Restore: restore}}, false},
		{"unknown", Options{Mode: Mode(7)}, false},
	} {
		if err := tc.o.validateMode(); (err == nil) != tc.ok {
			t.Errorf("%s: err = %v, want ok=%v", tc.name, err, tc.ok)
		}
	}
}
