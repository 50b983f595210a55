package start

import (
	"context"
	"fmt"
	"os"
	"strings"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"

	"github.com/bootstrap-k8s/bootstrap/pkg/endpoints"
	"github.com/bootstrap-k8s/bootstrap/pkg/etcdmembers"
	"github.com/bootstrap-k8s/bootstrap/pkg/etcdutil"
	"github.com/bootstrap-k8s/bootstrap/pkg/tempcontrolplane"
	"github.com/bootstrap-k8s/bootstrap/pkg/ui"
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

// etcdJoin adds the persistent member as a learner and installs its static
// pod; the member starts and catches up while the next phases run.
func (f *flow) etcdJoin(ctx context.Context) error {
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
	f.p.Infof("etcd", "Installed %s/etcd.yaml; the member catches up in the background", f.cfg.Node.StaticPodPath)
	return nil
}

// etcdPromote waits until the learner has caught up and promotes it.
func (f *flow) etcdPromote(ctx context.Context) error {
	cli, err := etcdutil.New(f.o.AssetDir, f.temp.EtcdEndpoint())
	if err != nil {
		return err
	}
	defer cli.Close()
	if err := etcdmembers.Promote(ctx, cli, f.learnerID, f.remaining()); err != nil {
		return err
	}
	f.p.Infof("etcd-promote", "Persistent member promoted to voter")
	return nil
}

// removeBootMemberInBackground starts the boot member's removal and lets the
// flow go on: nothing after the hand-over needs it gone (the persistent
// member holds the data and has quorum with it or without it), and etcd
// refuses the removal until the members have been connected for a while,
// which made this phase a second on start's critical path. The flow owns
// the temporary control plane no longer: the removal stops it.
// bootMemberRemoved waits for it before start reports success.
func (f *flow) removeBootMemberInBackground(ctx context.Context) error {
	temp, done := f.temp, make(chan error, 1)
	f.temp, f.tempCS, f.bootRemoval = nil, nil, done
	go func() { done <- f.removeBootMember(ctx, temp) }()
	return nil
}

// bootMemberRemoved waits for the background removal's outcome.
func (f *flow) bootMemberRemoved(context.Context) error {
	done := f.bootRemoval
	if done == nil {
		return nil
	}
	f.bootRemoval = nil
	return <-done
}

func (f *flow) skipBootMemberRemoved(context.Context) (string, error) {
	if f.bootRemoval == nil {
		return "no boot member was being removed", nil
	}
	return "", nil
}

func (f *flow) removeBootMember(ctx context.Context, temp *tempcontrolplane.ControlPlane) error {
	cli, err := etcdutil.New(f.o.AssetDir, endpoints.EtcdLoopbackClient(f.cfg))
	if err != nil {
		temp.Stop()
		return err
	}
	defer cli.Close()
	// The temporary apiserver's requests still in flight at the hand-over
	// read and write through the boot member: they finish first (its drain
	// began at the hand-over and waits for them only).
	began := time.Now()
	if err := temp.StopAPIServer(); err != nil {
		temp.Stop()
		return fmt.Errorf("stopping the temporary apiserver: %w", err)
	}
	drained := time.Now()
	f.handOffBootLeadership(ctx, cli, temp)
	handedOff := time.Now()
	// The removal goes through the boot member itself, which runs without
	// etcd's strict reconfiguration check: the persistent member would refuse
	// it until both had been connected for 5 s (etcd's HealthInterval), which
	// made start wait for it after everything else was ready. The check
	// guards the quorum of the members that stay; here that is the
	// persistent member alone, a voter that acknowledged every committed
	// entry since its promotion and that kube-apiserver just served through.
	bcli, err := etcdutil.New(f.o.AssetDir, temp.EtcdEndpoint())
	if err != nil {
		temp.Stop()
		return err
	}
	err = etcdmembers.RemoveThrough(ctx, cli, bcli, endpoints.BootEtcdPeer(f.cfg), time.Minute)
	bcli.Close()
	if err != nil {
		// Stopped all the same; a re-run starts it again (skipTemp) and
		// removes it then.
		temp.Stop()
		return fmt.Errorf("removing the boot etcd member: %w", err)
	}
	removed := time.Now()
	temp.StopRemoved() // the apiserver's part succeeded above: nothing left to report
	f.p.Detailf("etcd-cleanup", "Boot member: waited %s more for the temporary apiserver's drain, leadership hand-off %s, removal %s, etcd stopped %s",
		ui.Seconds(drained.Sub(began)), ui.Seconds(handedOff.Sub(drained)), ui.Seconds(removed.Sub(handedOff)), ui.Seconds(time.Since(removed)))
	// A removed member can never rejoin: its data dir is bootstrap's own
	// scratch space from here on, and a later recover must not trip over it.
	dir := f.cfg.Etcd.Local.BootDataDir
	if err := os.RemoveAll(dir); err != nil {
		return fmt.Errorf("removing the boot member's data dir: %w", err)
	}
	f.p.Detailf("etcd-cleanup", "Removed %s (the boot member left the cluster)", dir)
	return nil
}

// handOffBootLeadership moves etcd's leadership to the persistent member if
// the boot member holds it, so that removing the boot member does not leave
// kube-apiserver without a leader for an election timeout. Best effort:
// the removal works either way.
func (f *flow) handOffBootLeadership(ctx context.Context, cli *clientv3.Client, temp *tempcontrolplane.ControlPlane) {
	pers, err := etcdmembers.ByPeerURL(ctx, cli, endpoints.EtcdPeer(f.cfg))
	if err != nil || pers == nil {
		f.p.Detailf("etcd-cleanup", "Leadership not handed off: the persistent member is not listed (%v)", err)
		return
	}
	bcli, err := etcdutil.New(f.o.AssetDir, temp.EtcdEndpoint())
	if err != nil {
		return
	}
	defer bcli.Close()
	moved, err := etcdmembers.HandOffLeadership(ctx, bcli, temp.EtcdEndpoint(), pers.ID)
	switch {
	case err != nil:
		f.p.Detailf("etcd-cleanup", "Leadership not handed off: %v", err)
	case moved:
		f.p.Detailf("etcd-cleanup", "etcd leadership moved to the persistent member %x", pers.ID)
	}
}

// waitEtcdServing waits until the etcd at eps answers a linearizable read:
// it runs, has a leader and serves clients (its TLS handshake completes only
// then). Each try dials anew: a client created before etcd listens backs off
// its reconnects by a second or more.
func waitEtcdServing(ctx context.Context, assetDir string, eps []string, timeout time.Duration, report func(string)) error {
	cfg, err := etcdutil.Config(assetDir, eps...)
	if err != nil {
		return err
	}
	return waitFor(ctx, "etcd at "+strings.Join(eps, ",")+" to serve", timeout, report, func(ctx context.Context) (bool, string) {
		for _, ep := range eps {
			if err := etcdutil.Probe(ctx, cfg.TLS, ep); err != nil {
				return false, err.Error()
			}
		}
		cli, err := clientv3.New(cfg)
		if err != nil {
			return false, err.Error()
		}
		defer cli.Close()
		rctx, cancel := context.WithTimeout(ctx, 2*time.Second)
		defer cancel()
		if _, err := cli.Get(rctx, "health"); err != nil {
			return false, "etcd does not serve yet: " + err.Error()
		}
		return true, "etcd serves"
	})
}
