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
	"io"
	"sync/atomic"
	"time"

	"go.etcd.io/etcd/client/pkg/v3/transport"
	clientv3 "go.etcd.io/etcd/client/v3"
	"go.uber.org/zap"
	"google.golang.org/grpc/grpclog"

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
	// DialTimeout bounds clientv3.New; keepalives end a connection whose
	// peer stopped answering mid-call. Every call still needs a context
	// deadline of its own: the client retries unavailable endpoints until
	// its context ends.
	return clientv3.Config{Endpoints: endpoints, TLS: tlsCfg, DialTimeout: DialTimeout,
		DialKeepAliveTime: 10 * time.Second, DialKeepAliveTimeout: DialTimeout, Logger: Logger()}, nil
}

var verbosity atomic.Int32

// SetVerbosity sets the -v level: the etcd and gRPC clients log (their
// retries of an unreachable endpoint, a line a second) only at 4 and above;
// below, bootstrap's own error says what could not be reached. Call it
// before any client exists: gRPC's logger is process-wide and not safe to
// swap while connections run.
func SetVerbosity(v int) {
	verbosity.Store(int32(v))
	if v < 4 {
		// k8s.io/apiserver's etcd3 package routes gRPC warnings and errors
		// to klog at every level; at default verbosity they are noise.
		grpclog.SetLoggerV2(grpclog.NewLoggerV2(io.Discard, io.Discard, io.Discard))
	}
}

// Logger is the etcd client's logger at the current verbosity.
func Logger() *zap.Logger {
	if verbosity.Load() < 4 {
		return zap.NewNop()
	}
	cfg := zap.NewDevelopmentConfig()
	cfg.OutputPaths = []string{"stderr"}
	cfg.DisableStacktrace = true
	l, err := cfg.Build()
	if err != nil {
		return zap.NewNop()
	}
	return l
}

// New connects to endpoints with the asset dir's credentials.
func New(assetDir string, endpoints ...string) (*clientv3.Client, error) {
	cfg, err := Config(assetDir, endpoints...)
	if err != nil {
		return nil, err
	}
	return clientv3.New(cfg)
}
