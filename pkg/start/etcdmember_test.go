package start

import (
	"context"
	"fmt"
	"net"
	"net/url"
	"path/filepath"
	"testing"
	"time"

	"go.etcd.io/etcd/server/v3/embed"

	"github.com/bootstrap-k8s/bootstrap/pkg/apis/bootstrap/v1alpha1"
	"github.com/bootstrap-k8s/bootstrap/pkg/assets"
)

func renderTestAssets(t *testing.T) string {
	t.Helper()
	cfg := v1alpha1.Default()
	cfg.APIServer.AdvertiseAddress = "10.250.0.2"
	cfg.APIServer.ExternalURL = ""
	cfg.Node.Name = "node-1"
	v1alpha1.SetDefaults(cfg)
	dir := filepath.Join(t.TempDir(), "assets")
	if _, err := assets.Render(cfg, dir, assets.Options{}); err != nil {
		t.Fatal(err)
	}
	return dir
}

func freePort(t *testing.T) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// startMember runs an embedded etcd member with the asset dir's etcd PKI.
func startMember(t *testing.T, assetDir, name string, clientPort, peerPort int, initialCluster, state string) *embed.Etcd {
	t.Helper()
	cfg := embed.NewConfig()
	cfg.Name = name
	cfg.Dir = filepath.Join(t.TempDir(), name)
	cu := url.URL{Scheme: "https", Host: fmt.Sprintf("127.0.0.1:%d", clientPort)}
	pu := url.URL{Scheme: "https", Host: fmt.Sprintf("127.0.0.1:%d", peerPort)}
	cfg.ListenClientUrls, cfg.AdvertiseClientUrls = []url.URL{cu}, []url.URL{cu}
	cfg.ListenPeerUrls, cfg.AdvertisePeerUrls = []url.URL{pu}, []url.URL{pu}
	cfg.InitialCluster = initialCluster
	cfg.ClusterState = state
	cfg.LogLevel = "fatal"
	p := func(rel string) string { return assets.Path(assetDir, rel) }
	cfg.ClientTLSInfo.CertFile, cfg.ClientTLSInfo.KeyFile = p(assets.EtcdServerCert), p(assets.EtcdServerKey)
	cfg.ClientTLSInfo.TrustedCAFile, cfg.ClientTLSInfo.ClientCertAuth = p(assets.EtcdCACert), true
	cfg.PeerTLSInfo.CertFile, cfg.PeerTLSInfo.KeyFile = p(assets.EtcdPeerCert), p(assets.EtcdPeerKey)
	cfg.PeerTLSInfo.TrustedCAFile, cfg.PeerTLSInfo.ClientCertAuth = p(assets.EtcdCACert), true
	e, err := embed.StartEtcd(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(e.Close)
	select {
	case <-e.Server.ReadyNotify():
	case <-time.After(30 * time.Second):
		t.Fatalf("etcd member %s not ready", name)
	}
	return e
}

// TestEtcdMove walks the persistent member in: learner, promote, boot member
// out, with every step repeated as a re-run after a crash would.
func TestEtcdMove(t *testing.T) {
	if testing.Short() {
		t.Skip("starts two etcd members")
	}
	dir := renderTestAssets(t)
	bootClient, bootPeer := freePort(t), freePort(t)
	persClient, persPeer := freePort(t), freePort(t)
	bootPeerURL := fmt.Sprintf("https://127.0.0.1:%d", bootPeer)
	persPeerURL := fmt.Sprintf("https://127.0.0.1:%d", persPeer)
	startMember(t, dir, assets.BootEtcdMemberName, bootClient, bootPeer, assets.BootEtcdMemberName+"="+bootPeerURL, "new")

	ctx := context.Background()
	cli, err := EtcdClient(dir, fmt.Sprintf("https://127.0.0.1:%d", bootClient))
	if err != nil {
		t.Fatal(err)
	}
	defer cli.Close()
	if _, err := cli.Put(ctx, "/registry/test", "kept"); err != nil {
		t.Fatal(err)
	}
	id, err := AddLearner(ctx, cli, persPeerURL)
	if err != nil {
		t.Fatal(err)
	}
	if again, err := AddLearner(ctx, cli, persPeerURL); err != nil || again != id {
		t.Fatalf("re-running AddLearner: %x, %v; want the same member %x", again, err, id)
	}
	startMember(t, dir, "node-1", persClient, persPeer,
		fmt.Sprintf("%s=%s,node-1=%s", assets.BootEtcdMemberName, bootPeerURL, persPeerURL), "existing")
	if err := Promote(ctx, cli, id, 30*time.Second); err != nil {
		t.Fatal(err)
	}
	if err := Promote(ctx, cli, id, 5*time.Second); err != nil {
		t.Fatalf("re-running Promote: %v", err)
	}

	pers, err := EtcdClient(dir, fmt.Sprintf("https://127.0.0.1:%d", persClient))
	if err != nil {
		t.Fatal(err)
	}
	defer pers.Close()
	if err := RemoveMember(ctx, pers, bootPeerURL, 30*time.Second); err != nil {
		t.Fatal(err)
	}
	if err := RemoveMember(ctx, pers, bootPeerURL, 30*time.Second); err != nil {
		t.Fatalf("re-running RemoveMember: %v", err)
	}
	members, err := pers.MemberList(ctx)
	if err != nil || len(members.Members) != 1 || members.Members[0].Name != "node-1" || members.Members[0].IsLearner {
		t.Fatalf("members %+v, %v; want node-1 only, voting", members, err)
	}
	got, err := pers.Get(ctx, "/registry/test")
	if err != nil || len(got.Kvs) != 1 || string(got.Kvs[0].Value) != "kept" {
		t.Fatalf("data after the move: %v %v", got, err)
	}
}
