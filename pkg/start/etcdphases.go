package start

import (
	"context"
	"fmt"
	"os"
	"time"

	"github.com/bootstrap-k8s/bootstrap/pkg/endpoints"
	"github.com/bootstrap-k8s/bootstrap/pkg/etcdmembers"
	"github.com/bootstrap-k8s/bootstrap/pkg/etcdutil"
)

// The etcd side of start: the boot member is restarted when a resumed run
// still needs it, the persistent member joins as a learner and is promoted,
// and the boot member leaves once kube-apiserver serves.

// skipTemp skips the temporary control plane when an earlier run got past
// the hand-over and removed the boot member. If the boot member is still in
// the cluster (a run killed between hand-over and clean-up), it is started
// again: without it the persistent member has no quorum.
func (f *flow) skipTemp(ctx context.Context) (string, error) {
	if !f.resumed {
		return "", nil
	}
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	cli, err := etcdutil.New(f.o.AssetDir, endpoints.EtcdLoopbackClient(f.cfg))
	if err != nil {
		return "", nil
	}
	defer cli.Close()
	m, err := etcdmembers.ByPeerURL(ctx, cli, endpoints.BootEtcdPeer(f.cfg))
	if err != nil || m != nil { // no answer: no quorum without the boot member
		f.p.Infof("temp-control-plane", "The boot etcd member is still part of the cluster (%v): starting it again", err)
		return "", nil
	}
	return "kube-apiserver already serves and the boot etcd member is gone", nil
}

func (f *flow) etcd(ctx context.Context) error {
	cli, err := etcdutil.New(f.o.AssetDir, f.temp.EtcdEndpoint())
	if err != nil {
		return err
	}
	defer cli.Close()
	if f.learnerID, err = etcdmembers.AddLearner(ctx, cli, endpoints.EtcdPeer(f.cfg)); err != nil {
		return err
	}
	f.p.Detailf("etcd", "persistent member %x added as a learner", f.learnerID)
	if err := installEtcdFiles(f.o.AssetDir, f.cfg); err != nil {
		return fmt.Errorf("installing the etcd static pod: %w", err)
	}
	f.p.Infof("etcd", "Installed %s/etcd.yaml; waiting for the member to catch up", f.cfg.Node.StaticPodPath)
	if err := etcdmembers.Promote(ctx, cli, f.learnerID, f.remaining()); err != nil {
		return err
	}
	f.p.Infof("etcd", "Persistent member promoted to voter")
	return nil
}

func (f *flow) removeBootMember(ctx context.Context) error {
	cli, err := etcdutil.New(f.o.AssetDir, endpoints.EtcdLoopbackClient(f.cfg))
	if err != nil {
		return err
	}
	defer cli.Close()
	if err := etcdmembers.Remove(ctx, cli, endpoints.BootEtcdPeer(f.cfg), time.Minute); err != nil {
		return err
	}
	if err := f.temp.Stop(); err != nil {
		return err
	}
	f.temp = nil
	// A removed member can never rejoin: its data dir is bootstrap's own
	// scratch space from here on, and a later recover must not trip over it.
	dir := f.cfg.Etcd.Local.BootDataDir
	if err := os.RemoveAll(dir); err != nil {
		return fmt.Errorf("removing the boot member's data dir: %w", err)
	}
	f.p.Detailf("etcd-cleanup", "Removed %s (the boot member left the cluster)", dir)
	return nil
}
