package recovery

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"

	"github.com/bootstrap-k8s/bootstrap/pkg/apis/bootstrap/v1alpha1"
	"github.com/bootstrap-k8s/bootstrap/pkg/endpoints"
	"github.com/bootstrap-k8s/bootstrap/pkg/etcdutil"
	"github.com/bootstrap-k8s/bootstrap/pkg/ui"
)

// findRunningEtcd looks for this cluster's persistent etcd member where the
// asset dir says it serves; recover uses it when no source is given.
func findRunningEtcd(ctx context.Context, assetDir string, cfg *v1alpha1.BootstrapConfiguration) ([]string, error) {
	if cfg.Etcd.Local == nil {
		return nil, errors.New("no source given and etcd is external: pass --etcd-endpoints with its client URLs, --etcd-backup FILE or --etcd-data-dir DIR")
	}
	ep := endpoints.EtcdClient(cfg)
	cli, err := etcdutil.New(assetDir, ep)
	if err != nil {
		return nil, err
	}
	defer cli.Close()
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	if _, err := cli.Status(ctx, ep); err != nil {
		return nil, fmt.Errorf("no source given, and no etcd of this cluster answers at %s (%v). Pick the source that survived: --etcd-backup FILE (a `bootstrap backup` snapshot), --etcd-data-dir DIR (a stopped member's data) or --etcd-endpoints URLS (a running etcd elsewhere); docs/disaster-recovery.md says which", ep, err)
	}
	return []string{ep}, nil
}

// checkRunningEtcd connects to a running etcd with the asset dir's client
// certificate (the TLS handshake proves it is served with this cluster's
// etcd CA), reports each endpoint, and requires a quorum read.
func checkRunningEtcd(ctx context.Context, assetDir string, endpoints []string, p *ui.Printer) (*clientv3.Client, error) {
	for _, ep := range endpoints {
		if !strings.HasPrefix(ep, "https://") {
			return nil, fmt.Errorf("etcd endpoint %q: give client URLs like https://10.0.0.1:2379 (etcd is only reached over TLS)", ep)
		}
	}
	cli, err := etcdutil.New(assetDir, endpoints...)
	if err != nil {
		return nil, err
	}
	var errs []error
	answered := 0
	for _, ep := range endpoints {
		sctx, cancel := context.WithTimeout(ctx, 5*time.Second)
		st, err := cli.Status(sctx, ep)
		cancel()
		if err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", ep, err))
			continue
		}
		answered++
		p.Infof("recover", "Source etcd %s: member %x, revision %d, %d MB, leader %x", ep, st.Header.MemberId, st.Header.Revision, st.DbSize>>20, st.Leader)
	}
	if answered == 0 {
		cli.Close()
		return nil, fmt.Errorf("no etcd endpoint answers with this asset dir's credentials: %w (is etcd running? is this the asset dir of that cluster?)", errors.Join(errs...))
	}
	gctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	if _, err := cli.Get(gctx, "/registry/namespaces/kube-system"); err != nil {
		cli.Close()
		return nil, fmt.Errorf("etcd answers but cannot serve a quorum read (%w): with members lost for good, restore from a backup or a data dir instead", err)
	}
	return cli, nil
}
