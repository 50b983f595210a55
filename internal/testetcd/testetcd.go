// Package testetcd starts real embedded etcd members with a rendered asset
// dir's etcd PKI, for tests of code that manages etcd (membership moves,
// snapshots, restores).
//
//	dir := testetcd.RenderAssets(t)
//	m := testetcd.Start(t, dir, testetcd.Member{Name: "a"})
//	cli := ... m.ClientURL ...
//
// Filled is both with keys in the member, and CorruptPages damages a copy
// of a snapshot page by page, for the snapshot checks:
//
//	dir, m := testetcd.Filled(t, 300, 400)   // 300 keys of 400 bytes
//	bad := testetcd.CorruptPages(t, snap, 2, 4, func(int) byte { return 0xff })
package testetcd

import (
	"fmt"
	"math/rand/v2"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"testing"
	"time"

	"go.etcd.io/etcd/server/v3/embed"

	"github.com/bootstrap-k8s/bootstrap/pkg/apis/bootstrap/v1alpha1"
	"github.com/bootstrap-k8s/bootstrap/pkg/assets"
)

// RenderAssets renders a complete asset dir for node-1 at 10.250.0.2 into a
// temporary directory. Its etcd certificates also name 127.0.0.1.
func RenderAssets(t testing.TB) string {
	t.Helper()
	cfg := &v1alpha1.BootstrapConfiguration{}
	cfg.APIServer.AdvertiseAddress = "10.250.0.2"
	cfg.Node.Name = "node-1"
	v1alpha1.SetDefaults(cfg)
	dir := filepath.Join(t.TempDir(), "assets")
	if _, err := assets.Render(cfg, dir, assets.Options{}); err != nil {
		t.Fatal(err)
	}
	return dir
}

// FreePort returns a TCP port on 127.0.0.1 that was free a moment ago.
// It is picked at random below the kernel's ephemeral range: a port from
// that range (what listening on port 0 gives) was taken, between this
// check and the test's own bind, by an outgoing connection of a test
// running beside it ("in use by another process", seen in CI). Outgoing
// connections never take ports below the range.
func FreePort(t testing.TB) int {
	t.Helper()
	lo, hi := freePortRange()
	for range 100 {
		port := lo + rand.IntN(hi-lo)
		l, err := net.Listen("tcp", fmt.Sprintf("127.0.0.1:%d", port))
		if err == nil {
			l.Close()
			return port
		}
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// freePortRange is [20000, start of the ephemeral range), or a range
// inside 20000-32767 if that cannot be read or is too small.
func freePortRange() (lo, hi int) {
	lo, hi = 20000, 32768
	b, err := os.ReadFile("/proc/sys/net/ipv4/ip_local_port_range")
	if err != nil {
		return lo, hi
	}
	var first, last int
	if _, err := fmt.Sscan(string(b), &first, &last); err == nil && first-lo >= 1000 {
		hi = first
	}
	return lo, hi
}

// Member describes one member to start; zero ports are picked free.
type Member struct {
	Name                 string
	DataDir              string
	ClientPort, PeerPort int
	// InitialCluster and State default to a new one-member cluster.
	InitialCluster string
	State          string
}

// Running is a started member.
type Running struct {
	*embed.Etcd
	ClientURL, PeerURL string
	DataDir            string
}

// Start runs an embedded member with the asset dir's etcd server and peer
// certificates, client-certificate auth on, and stops it at test cleanup.
func Start(t testing.TB, assetDir string, m Member) *Running {
	t.Helper()
	if m.ClientPort == 0 {
		m.ClientPort = FreePort(t)
	}
	if m.PeerPort == 0 {
		m.PeerPort = FreePort(t)
	}
	if m.DataDir == "" {
		m.DataDir = filepath.Join(t.TempDir(), m.Name)
	}
	cu := url.URL{Scheme: "https", Host: fmt.Sprintf("127.0.0.1:%d", m.ClientPort)}
	pu := url.URL{Scheme: "https", Host: fmt.Sprintf("127.0.0.1:%d", m.PeerPort)}
	if m.InitialCluster == "" {
		m.InitialCluster = m.Name + "=" + pu.String()
	}
	if m.State == "" {
		m.State = embed.ClusterStateFlagNew
	}
	cfg := embed.NewConfig()
	cfg.Name, cfg.Dir = m.Name, m.DataDir
	cfg.ListenClientUrls, cfg.AdvertiseClientUrls = []url.URL{cu}, []url.URL{cu}
	cfg.ListenPeerUrls, cfg.AdvertisePeerUrls = []url.URL{pu}, []url.URL{pu}
	cfg.InitialCluster, cfg.ClusterState = m.InitialCluster, m.State
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
	case err := <-e.Err():
		t.Fatalf("etcd member %s: %v", m.Name, err)
	case <-time.After(30 * time.Second):
		t.Fatalf("etcd member %s not ready within 30s", m.Name)
	}
	return &Running{Etcd: e, ClientURL: cu.String(), PeerURL: pu.String(), DataDir: m.DataDir}
}
