package tempcontrolplane

import (
	"errors"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"time"

	"go.etcd.io/etcd/server/v3/embed"

	"github.com/bootstrap-k8s/bootstrap/pkg/assets"
	"github.com/bootstrap-k8s/bootstrap/pkg/endpoints"
	"github.com/bootstrap-k8s/bootstrap/pkg/portcheck"
)

// DataDirMarker is the file, inside the boot member's data dir, that records
// which cluster (etcd CA fingerprint) the data belongs to. It lets a re-run
// reuse its own data and refuse another cluster's without touching it.
const DataDirMarker = "bootstrap-cluster"

// bootEtcd is the embedded boot etcd member.
type bootEtcd struct {
	cfg     *Config
	etcd    *embed.Etcd
	closing *atomic.Bool
}

// prepareDataDir creates the data dir or checks that it belongs to this
// cluster. It never deletes anything.
func prepareDataDir(cfg *Config, fingerprint string) error {
	dir := cfg.EtcdDataDir
	marker := filepath.Join(dir, DataDirMarker)
	entries, err := os.ReadDir(dir)
	switch {
	case errors.Is(err, os.ErrNotExist):
		if err := os.MkdirAll(dir, 0o700); err != nil {
			return fmt.Errorf("creating etcd data dir %s: %w", dir, err)
		}
	case err != nil:
		return fmt.Errorf("reading etcd data dir %s: %w", dir, err)
	}
	if data, err := os.ReadFile(marker); err == nil {
		if got := strings.TrimSpace(string(data)); got != fingerprint {
			return fmt.Errorf("etcd data dir %s belongs to another cluster (its etcd CA fingerprint %s differs from %s in asset dir %s); "+
				"point etcd.local.bootDataDir at an empty dir or move the old data away yourself — nothing was deleted",
				dir, short(got), short(fingerprint), cfg.AssetDir)
		}
		return nil
	}
	hasMember := false
	for _, e := range entries {
		if e.Name() == "member" {
			hasMember = true
		}
	}
	if hasMember {
		return fmt.Errorf("etcd data dir %s holds etcd data that bootstrap did not create (no %s marker); "+
			"it may belong to another cluster: use an empty dir, or move the data away yourself — nothing was deleted", dir, DataDirMarker)
	}
	if err := os.WriteFile(marker, []byte(fingerprint+"\n"), 0o600); err != nil {
		return fmt.Errorf("writing %s: %w", marker, err)
	}
	return nil
}

func short(fp string) string {
	if len(fp) > 12 {
		return fp[:12]
	}
	return fp
}

// etcdURL is endpoints.HTTPS as the url.URL embed.Config wants. host is an
// IP address (Config.validate), so parsing cannot fail.
func etcdURL(host string, port int) url.URL {
	u, err := url.Parse(endpoints.HTTPS(host, int32(port)))
	if err != nil {
		panic(err)
	}
	return *u
}

// startEtcd validates the PKI and data dir, starts the member and waits until
// it serves or the timeout hits.
func startEtcd(cfg *Config) (*bootEtcd, error) {
	fp, err := checkEtcdPKI(cfg.AssetDir)
	if err != nil {
		return nil, err
	}
	if err := prepareDataDir(cfg, fp); err != nil {
		return nil, err
	}
	clientHosts := []string{"127.0.0.1"}
	if cfg.EtcdAdvertiseAddress != "127.0.0.1" {
		clientHosts = append(clientHosts, cfg.EtcdAdvertiseAddress)
	}
	// etcd's own error ("bind: address already in use") does not say which
	// of its listeners failed or what to do.
	for _, h := range clientHosts {
		if err := portcheck.Free(h, cfg.EtcdClientPort, "etcd.local.bootClientPort"); err != nil {
			return nil, err
		}
	}
	if err := portcheck.Free(cfg.EtcdAdvertiseAddress, cfg.EtcdPeerPort, "etcd.local.bootPeerPort"); err != nil {
		return nil, err
	}

	ec := embed.NewConfig()
	ec.Name = cfg.EtcdName
	ec.Dir = cfg.EtcdDataDir
	ec.LogLevel = cfg.EtcdLogLevel
	closing := &atomic.Bool{}
	lg, err := etcdLogger(cfg.EtcdLogLevel, closing)
	if err != nil {
		return nil, err
	}
	ec.ZapLoggerBuilder = embed.NewZapLoggerBuilder(lg)
	// A new single-member cluster waits a random part of one election timeout
	// before electing itself: with etcd's defaults (100ms/1000ms) that is up to
	// ~1.1s of a start budget of 1s. Everything of the boot member runs on one
	// node, where 20ms heartbeats are cheap and reliable.
	ec.TickMs, ec.ElectionMs = 20, 200
	// `bootstrap start` removes this member through itself once the
	// persistent member (a voter since its promotion) holds the data: etcd's
	// strict check would refuse that for 5 s after the two connected. The
	// learner's promotion still waits until it has caught up (etcd checks
	// that either way).
	ec.StrictReconfigCheck = false
	ec.ListenClientUrls = nil
	for _, h := range clientHosts {
		ec.ListenClientUrls = append(ec.ListenClientUrls, etcdURL(h, cfg.EtcdClientPort))
	}
	ec.AdvertiseClientUrls = []url.URL{etcdURL(cfg.EtcdAdvertiseAddress, cfg.EtcdClientPort)}
	peer := etcdURL(cfg.EtcdAdvertiseAddress, cfg.EtcdPeerPort)
	ec.ListenPeerUrls = []url.URL{peer}
	ec.AdvertisePeerUrls = []url.URL{peer}
	ec.InitialCluster = fmt.Sprintf("%s=%s", cfg.EtcdName, peer.String())
	ec.InitialClusterToken = "bootstrap-" + cfg.EtcdName
	// The metrics listener defaults to a fixed localhost port; we serve none.
	ec.ListenMetricsUrls = nil
	ec.ClientTLSInfo.CertFile = assets.Path(cfg.AssetDir, assets.EtcdServerCert)
	ec.ClientTLSInfo.KeyFile = assets.Path(cfg.AssetDir, assets.EtcdServerKey)
	ec.ClientTLSInfo.TrustedCAFile = assets.Path(cfg.AssetDir, assets.EtcdCACert)
	ec.ClientTLSInfo.ClientCertAuth = true
	ec.PeerTLSInfo.CertFile = assets.Path(cfg.AssetDir, assets.EtcdPeerCert)
	ec.PeerTLSInfo.KeyFile = assets.Path(cfg.AssetDir, assets.EtcdPeerKey)
	ec.PeerTLSInfo.TrustedCAFile = assets.Path(cfg.AssetDir, assets.EtcdCACert)
	ec.PeerTLSInfo.ClientCertAuth = true

	e, err := embed.StartEtcd(ec)
	if err != nil {
		return nil, fmt.Errorf("starting boot etcd member %q (data dir %s, client port %d, peer port %d): %w",
			cfg.EtcdName, cfg.EtcdDataDir, cfg.EtcdClientPort, cfg.EtcdPeerPort, err)
	}
	b := &bootEtcd{cfg: cfg, etcd: e, closing: closing}
	select {
	case <-e.Server.ReadyNotify():
		return b, nil
	case err := <-e.Err():
		b.Close()
		return nil, fmt.Errorf("boot etcd member failed before becoming ready (data dir %s): %w", cfg.EtcdDataDir, err)
	case <-time.After(cfg.ReadyTimeout):
		closing.Store(true)
		e.Server.Stop()
		e.Close()
		return nil, fmt.Errorf("boot etcd member not ready after %s (data dir %s, peer URL %s): check the etcd log above", cfg.ReadyTimeout, cfg.EtcdDataDir, peer.String())
	}
}

// Err reports errors of the running member.
func (b *bootEtcd) Err() <-chan error { return b.etcd.Err() }

// Close stops the member; the data dir stays.
func (b *bootEtcd) Close() {
	b.closing.Store(true)
	b.etcd.Close()
}
