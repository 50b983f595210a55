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
	serves := make(chan struct{})
	f.etcdServes = serves
	if err := f.newTemp(); err != nil {
		return err
	}
	// The API port is bound before the restore, as a fresh start binds it
	// before its boot member, with a lobby answering it until the temporary
	// apiserver serves (tempcontrolplane.ListenAndHold): the kubelet's
	// lists and watches from then on wait for the apiserver instead of
	// being refused into their reflectors' back-off (a Node informer synced
	// 2.5 s late, a Service informer synced after kube-apiserver's sandbox
	// cost the kubelet's 10 s pod back-off), while its volume reconciler's
	// GET of its Node is answered at once and does not hold the etcd static
	// pod (docs/design.md, "A recovery binds it before the restore").
	if err := f.temp.ListenAndHold(); err != nil {
		return err
	}
	if err := f.o.Recovery.Restore(ctx, f.cfg); err != nil {
		return err
	}
	if err := installEtcdFiles(f.o.AssetDir, f.cfg); err != nil {
		return fmt.Errorf("installing the etcd static pod: %w", err)
	}
	f.p.Infof("restore", "Installed %s/etcd.yaml; waiting for the restored member to serve", f.cfg.Node.StaticPodPath)
	// The temporary apiserver is built while the kubelet starts the member
	// and the member elects itself (docs/design.md, "A recovery from a
	// saved state builds the temporary apiserver while..."): a restored
	// single member waits 0.1-1.0 s of randomised election timeout before
	// it serves, and the build (0.3-0.7 s of CPU) used to follow it, on the
	// critical path of the kubelet's first list of its pods. It serves only
	// once the member does: a request that etcd failed during its election
	// ("leader changed") made the kubelet's reflector back off, and it
	// listed its pods 2 s late.
	f.startTempEarly(ctx)
	if err := waitEtcdServing(ctx, f.o.AssetDir, f.etcdEndpoints(), f.remaining(), f.report); err != nil {
		f.abandonEarlyTemp()
		return err
	}
	close(serves)
	return nil
}

// earlyTemp is the temporary apiserver's start begun by the restore phase.
type earlyTemp struct {
	done   chan error
	cancel context.CancelFunc
}

func (f *flow) startTempEarly(ctx context.Context) {
	ctx, cancel := context.WithCancel(ctx)
	e := &earlyTemp{done: make(chan error, 1), cancel: cancel}
	f.early = e
	temp := f.temp
	go func() { e.done <- temp.Start(ctx) }()
}

// abandonEarlyTemp stops an early start and waits for it to return (Start
// stops what it started when it fails), so that nothing runs behind the
// flow's own clean-up.
func (f *flow) abandonEarlyTemp() {
	if f.early == nil {
		return
	}
	f.early.cancel()
	<-f.early.done
	f.early = nil
}

// earlyTempStarted collects an early start: true when the temporary
// apiserver serves. A failed one (the member took longer than the
// apiserver's own ready timeout, say) is said and left for a fresh start.
func (f *flow) earlyTempStarted() bool {
	e := f.early
	if e == nil {
		return false
	}
	f.early = nil
	err := <-e.done
	e.cancel()
	if err != nil {
		f.p.Detailf("temp-control-plane", "The temporary apiserver started beside the restored member did not come up (%v): starting it again", err)
		f.temp = nil
		return false
	}
	return true
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
	if !f.earlyTempStarted() {
		if err := f.newTemp(); err != nil {
			return err
		}
		if err := f.temp.Start(ctx); err != nil {
			return err
		}
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
	if f.etcdServes != nil {
		tcfg.ServeAfter = f.etcdServes
	}
	if f.p.Verbosity < 2 {
		// The boot member logs expected refusals (a learner not ready yet) as
		// errors with stack traces; start reports what matters itself.
		tcfg.EtcdLogLevel = "fatal"
	}
	tcfg.Logf = func(format string, args ...any) {
		f.p.Detailf("temp-control-plane", "Temporary control plane: "+format, args...)
	}
	f.temp, err = tempcontrolplane.New(tcfg)
	return err
}
