package endpoints

import (
	"strconv"
	"testing"

	"github.com/bootstrap-k8s/bootstrap/pkg/apis/bootstrap/v1alpha1"
)

func TestURLs(t *testing.T) {
	for _, tc := range []struct{ adv, client, peer, bootPeer string }{
		{"10.0.0.2", "https://10.0.0.2:2379", "https://10.0.0.2:2380", "https://10.0.0.2:"},
		{"fd00::2", "https://[fd00::2]:2379", "https://[fd00::2]:2380", "https://[fd00::2]:"},
	} {
		cfg := &v1alpha1.BootstrapConfiguration{}
		cfg.APIServer.AdvertiseAddress = tc.adv
		cfg.Node.Name = "n"
		v1alpha1.SetDefaults(cfg)
		if got := EtcdClient(cfg); got != tc.client {
			t.Errorf("EtcdClient = %s, want %s", got, tc.client)
		}
		if got := "https://" + EtcdClientAddress(cfg); got != tc.client {
			t.Errorf("EtcdClientAddress = %s, want the host:port of %s", got, tc.client)
		}
		if got := EtcdPeer(cfg); got != tc.peer {
			t.Errorf("EtcdPeer = %s, want %s", got, tc.peer)
		}
		if got, want := BootEtcdPeer(cfg), tc.bootPeer+strconv.Itoa(int(cfg.Etcd.Local.BootPeerPort)); got != want {
			t.Errorf("BootEtcdPeer = %s, want %s", got, want)
		}
	}
	cfg := &v1alpha1.BootstrapConfiguration{}
	cfg.APIServer.AdvertiseAddress, cfg.Node.Name = "fd00::2", "n"
	v1alpha1.SetDefaults(cfg)
	if got := EtcdLoopbackClient(cfg); got != "https://127.0.0.1:2379" {
		t.Errorf("EtcdLoopbackClient = %s", got)
	}
	if got := BootEtcdClient(2381); got != "https://127.0.0.1:2381" {
		t.Errorf("BootEtcdClient = %s", got)
	}
}
