package upgrade

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/bootstrap-k8s/bootstrap/pkg/endpoints"
	"github.com/bootstrap-k8s/bootstrap/pkg/etcdutil"
	"github.com/bootstrap-k8s/bootstrap/pkg/waitfor"
)

// upgradeEtcd replaces this node's etcd static pod manifest (after the
// snapshot) and waits for the member to answer as healthy; on a timeout the
// old manifest is put back.
func upgradeEtcd(ctx context.Context, o Options, plan *Plan) error {
	old, err := os.ReadFile(plan.etcdPath)
	if err != nil {
		return err
	}
	write := func(data []byte) error {
		tmp := filepath.Join(filepath.Dir(plan.etcdPath), ".etcd.yaml.upgrade")
		if err := os.WriteFile(tmp, data, 0o600); err != nil {
			return err
		}
		return os.Rename(tmp, plan.etcdPath)
	}
	o.Logf("upgrade", "Replacing the etcd static pod %s (%s -> %s)", plan.etcdPath, plan.Etcd.From, plan.Etcd.To)
	if err := write(plan.etcdTarget); err != nil {
		return err
	}
	healthy := func(ctx context.Context) (bool, string, error) {
		endpoint := endpoints.EtcdClient(plan.config)
		cli, err := etcdutil.New(o.AssetDir, endpoint)
		if err != nil {
			return false, "", err
		}
		defer cli.Close()
		st, err := cli.Status(ctx, endpoint)
		if err != nil {
			return false, "", err
		}
		return st.Leader != 0, fmt.Sprintf("etcd %s, leader %x", st.Version, st.Leader), nil
	}
	// The kubelet needs a moment to see the new manifest and stop the old pod.
	time.Sleep(5 * time.Second)
	if _, err := waitfor.Until(ctx, waitfor.Options{What: "etcd to serve on its new manifest", Timeout: o.ComponentTimeout, Interval: time.Second, CallTimeout: 10 * time.Second}, healthy); err != nil {
		o.Logf("rollback", "etcd did not serve within %s; putting the old manifest back", o.ComponentTimeout)
		if werr := write(old); werr != nil {
			return fmt.Errorf("%w; AND putting the old etcd manifest back failed: %v", err, werr)
		}
		return err
	}
	return nil
}
