package tempcontrolplane

import (
	"context"
	"net"
	"os"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"

	"github.com/bootstrap-k8s/bootstrap/internal/testetcd"
	"github.com/bootstrap-k8s/bootstrap/pkg/etcdutil"
)

// With ExternalEtcdEndpoints the temporary apiserver stores into an etcd that
// already runs (recover after the API was lost while etcd survived): no boot
// member is started, objects land in that etcd, and Stop leaves it running.
func TestExternalEtcd(t *testing.T) {
	dir, _ := renderAssets(t)
	member := testetcd.Start(t, dir, testetcd.Member{Name: "persistent"})
	cfg := testConfig(t, dir)
	cfg.ExternalEtcdEndpoints = []string{member.ClientURL}
	cp, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	if err := cp.Start(ctx); err != nil {
		t.Fatalf("start: %v", err)
	}
	defer cp.Stop()
	if got := cp.EtcdEndpoint(); got != member.ClientURL {
		t.Errorf("EtcdEndpoint() = %q, want the external %q", got, member.ClientURL)
	}
	// No boot member: its ports stay free and its data dir is never created.
	if _, err := os.Stat(cfg.EtcdDataDir); !os.IsNotExist(err) {
		t.Errorf("boot member data dir %s exists (%v); nothing should start a boot member", cfg.EtcdDataDir, err)
	}
	if l, err := net.Listen("tcp", net.JoinHostPort("127.0.0.1", itoa(cfg.EtcdClientPort))); err != nil {
		t.Errorf("boot member client port bound: %v", err)
	} else {
		l.Close()
	}

	cs := kubernetes.NewForConfigOrDie(cp.AdminConfig())
	cm := &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: "kept", Namespace: "default"}, Data: map[string]string{"k": "v"}}
	if _, err := cs.CoreV1().ConfigMaps("default").Create(ctx, cm, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	if err := cp.Stop(); err != nil {
		t.Fatalf("stop: %v", err)
	}
	ectx, ecancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer ecancel()
	cli, err := etcdutil.New(dir, member.ClientURL)
	if err != nil {
		t.Fatal(err)
	}
	defer cli.Close()
	resp, err := cli.Get(ectx, "/registry/configmaps/default/kept")
	if err != nil {
		t.Fatalf("external etcd after Stop: %v", err)
	}
	if len(resp.Kvs) != 1 {
		t.Fatalf("the ConfigMap is not in the external etcd: %d keys", len(resp.Kvs))
	}
}

func TestExternalEtcdEndpointsValidated(t *testing.T) {
	dir, _ := renderAssets(t)
	cfg := testConfig(t, dir)
	cfg.ExternalEtcdEndpoints = []string{"http://127.0.0.1:2379"}
	if _, err := New(cfg); err == nil {
		t.Fatal("New accepted a plain-http etcd endpoint")
	}
}
