// Package etcdutil connects to a cluster's etcd with the asset dir's
// credentials. etcd runs without its own RBAC, so any client certificate of
// the etcd CA may read, snapshot and change membership; bootstrap uses the
// apiserver's.
//
//	cli, err := etcdutil.New(assetDir, "https://127.0.0.1:2379")
package etcdutil

import (
	"crypto/tls"
	"fmt"
	"time"

	"go.etcd.io/etcd/client/pkg/v3/transport"
	clientv3 "go.etcd.io/etcd/client/v3"
	"go.uber.org/zap"

	"github.com/bootstrap-k8s/bootstrap/pkg/assets"
)

// Config is a client configuration for endpoints with the asset dir's
// apiserver-etcd-client certificate.
func Config(assetDir string, endpoints ...string) (clientv3.Config, error) {
	info := transport.TLSInfo{
		CertFile:      assets.Path(assetDir, assets.APIServerEtcdClientCert),
		KeyFile:       assets.Path(assetDir, assets.APIServerEtcdClientKey),
		TrustedCAFile: assets.Path(assetDir, assets.EtcdCACert),
	}
	tlsCfg, err := info.ClientConfig()
	if err != nil {
		return clientv3.Config{}, fmt.Errorf("etcd client certificate from %s: %w", assetDir, err)
	}
	tlsCfg.MinVersion = tls.VersionTLS12
	return clientv3.Config{Endpoints: endpoints, TLS: tlsCfg, DialTimeout: 5 * time.Second, Logger: zap.NewNop()}, nil
}

// New connects to endpoints with the asset dir's credentials.
func New(assetDir string, endpoints ...string) (*clientv3.Client, error) {
	cfg, err := Config(assetDir, endpoints...)
	if err != nil {
		return nil, err
	}
	return clientv3.New(cfg)
}
