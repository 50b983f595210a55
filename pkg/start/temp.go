package start

import (
	"context"
	"fmt"

	"k8s.io/client-go/kubernetes"

	"github.com/bootstrap-k8s/bootstrap/pkg/assets"
	"github.com/bootstrap-k8s/bootstrap/pkg/endpoints"
	"github.com/bootstrap-k8s/bootstrap/pkg/tempcontrolplane"
)

// restore writes the saved state into the persistent member's data dir and
// starts that member (the etcd static pod): the rest of the recovery runs on
// it, as on a running etcd.
func (f *flow) restore(ctx context.Context) error {
	if err := f.newTemp(); err != nil {
		return err
	}
	if err := f.o.Recovery.Restore(ctx, f.cfg); err != nil {
		return err
	}
	if err := installEtcdFiles(f.o.AssetDir, f.cfg); err != nil {
		return fmt.Errorf("installing the etcd static pod: %w", err)
	}
	f.p.Infof("restore", "Installed %s/etcd.yaml; waiting for the restored member to serve", f.cfg.Node.StaticPodPath)
	// The API port is bound once the member takes connections, as a fresh
	// start binds it before its boot member: the kubelet's retries from then
	// on wait for the temporary apiserver instead of backing off (it saw the
	// placed pods 2.2 s late in the bench's recovery). Not sooner: the
	// kubelet creates a static pod's mirror pod before its sandbox, and a
	// request that hangs in the backlog held etcd's start for 20 s, where a
	// refused one fails at once.
	return waitEtcdServing(ctx, f.o.AssetDir, f.etcdEndpoints(), f.remaining(), f.report, f.temp.Listen)
}

// etcdEndpoints is the etcd a recovery works on: the one given, or the
// restored persistent member. Empty on a fresh start (the boot member).
func (f *flow) etcdEndpoints() []string {
	if f.o.Mode == Restore {
		return []string{endpoints.EtcdLoopbackClient(f.cfg)}
	}
	return f.o.Recovery.EtcdEndpoints
}

func (f *flow) startTemp(ctx context.Context) error {
	if err := f.newTemp(); err != nil {
		return err
	}
	if err := f.temp.Start(ctx); err != nil {
		return err
	}
	var err error
	f.tempCS, err = kubernetes.NewForConfig(f.temp.AdminConfig())
	return err
}

// newTemp configures the temporary control plane, unless the restore phase
// already did (to bind its port early).
func (f *flow) newTemp() error {
	if f.temp != nil {
		return nil
	}
	tcfg, err := tempcontrolplane.FromBootstrapConfiguration(f.cfg, f.o.AssetDir)
	if err != nil {
		return err
	}
	tcfg.EtcdName = assets.BootEtcdMemberName
	tcfg.ExternalEtcdEndpoints = f.etcdEndpoints()
	if f.p.Verbosity < 2 {
		// The boot member logs expected refusals (a learner not ready yet) as
		// errors with stack traces; start reports what matters itself.
		tcfg.EtcdLogLevel = "fatal"
	}
	f.temp, err = tempcontrolplane.New(tcfg)
	return err
}
