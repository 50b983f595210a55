package guard

import (
	"context"
	"fmt"
	"net"
	"time"

	"github.com/bootstrap-k8s/bootstrap/pkg/apis/bootstrap/v1alpha1"
	"github.com/bootstrap-k8s/bootstrap/pkg/assets"
	"github.com/bootstrap-k8s/bootstrap/pkg/endpoints"
	"github.com/bootstrap-k8s/bootstrap/pkg/recovery"
	"github.com/bootstrap-k8s/bootstrap/pkg/start"
	"github.com/bootstrap-k8s/bootstrap/pkg/ui"
)

// Options configure the guard. Zero values take the defaults.
type Options struct {
	AssetDir string
	// Interval between two probes (default 1s).
	Interval time.Duration
	// DownAfter: no kube-apiserver has listened on loopback for this long
	// (default 3s). Short on purpose: nothing on this node listens there
	// but kube-apiserver, a surge roll-out keeps the old one listening
	// until the new one serves, and a recovery against a kube-apiserver
	// that comes back by itself only finds it serving and stops.
	DownAfter time.Duration
	// StuckAfter: kube-apiserver serves, but the controller-manager or the
	// scheduler has held no fresh lease for this long (default 45s, three
	// lease durations: a roll-out or a failover takes one).
	StuckAfter time.Duration
	// RecoverTimeout bounds one recovery (default 5m).
	RecoverTimeout time.Duration
	// Backoff after a failed recovery (default 2s: the first attempts after a
	// boot fail until etcd answers).
	Backoff time.Duration
	// RolloutGrace: a new kube-apiserver pod available for minReadySeconds
	// plus this long beside an old one means the DaemonSet controller lost
	// its wake-up (rollout.go); the guard wakes it (default 10s, checked
	// every 5s).
	RolloutGrace time.Duration
}

func (o *Options) defaults() {
	def := func(d *time.Duration, v time.Duration) {
		if *d == 0 {
			*d = v
		}
	}
	def(&o.Interval, time.Second)
	def(&o.DownAfter, 3*time.Second)
	def(&o.StuckAfter, 45*time.Second)
	def(&o.RecoverTimeout, 5*time.Minute)
	def(&o.Backoff, 2*time.Second)
	def(&o.RolloutGrace, 10*time.Second)
}

// Run guards the control plane of the asset dir's node until ctx is done.
func Run(ctx context.Context, o Options, p *ui.Printer) error {
	o.defaults()
	if err := start.CheckAssetDir(o.AssetDir); err != nil {
		return err
	}
	cfg, err := v1alpha1.Load(assets.Path(o.AssetDir, assets.ConfigFile))
	if err != nil {
		return err
	}
	pr, err := newProber(o.AssetDir, cfg)
	if err != nil {
		return err
	}
	p.Infof("guard", "Guarding the control plane of node %s: kube-apiserver on %s, probed every %s", cfg.Node.Name, pr.url, o.Interval)
	var w watch
	lastState, lastElsewhere, lastNudgeErr := "", "", ""
	var lastRolloutCheck time.Time
	tick := time.NewTicker(o.Interval)
	defer tick.Stop()
	for {
		st := pr.probe(ctx)
		if st.String() != lastState {
			p.Infof("guard", "%s", st)
			lastState = st.String()
		}
		if why := w.observe(st, time.Now(), o); why != "" {
			if how, ok := servedElsewhere(ctx, o.AssetDir, cfg); ok {
				if how != lastElsewhere {
					p.Infof("guard", "Not recovering (%s): %s; this node's kube-apiserver comes from its DaemonSet", why, how)
					lastElsewhere = how
				}
				w = watch{seenUp: w.seenUp}
				if !sleep(ctx, o.Backoff) {
					return nil
				}
				continue
			}
			lastElsewhere = ""
			if err := recoverNow(ctx, o, p, cfg, why); err != nil {
				p.Infof("guard", "Recovery failed: %v; trying again in %s", err, o.Backoff)
				if !sleep(ctx, o.Backoff) {
					return nil
				}
			}
			w, lastState = watch{seenUp: true}, ""
			continue
		}
		if st.serving && time.Since(lastRolloutCheck) >= 5*time.Second {
			lastRolloutCheck = time.Now()
			rctx, cancel := context.WithTimeout(ctx, 5*time.Second)
			msg, err := nudgeStalledRollout(rctx, pr.cs, time.Now(), o.RolloutGrace)
			cancel()
			switch {
			case err != nil && err.Error() != lastNudgeErr:
				p.Infof("guard", "Cannot check the kube-apiserver roll-out: %v", err)
				lastNudgeErr = err.Error()
			case err == nil && msg != "":
				p.Infof("guard", "%s", msg)
			}
		}
		select {
		case <-ctx.Done():
			p.Infof("guard", "Stopping")
			return nil
		case <-tick.C:
		}
	}
}

// watch remembers since when the control plane has been down or stuck,
// and whether kube-apiserver was seen listening since the guard started.
type watch struct {
	downSince, stuckSince time.Time
	seenUp                bool
}

// observe records a probe's state at now and says why to recover, or "".
func (w *watch) observe(st state, now time.Time, o Options) string {
	switch {
	case st.down && !w.seenUp:
		// Nothing has listened since the guard started: a boot (the
		// kubelet starts the guard with the static pods, and nothing
		// else can start kube-apiserver now). Waiting would only make the
		// kubelet's API retries back off further.
		return "no kube-apiserver listens on loopback since the guard started (a boot)"
	case st.down:
		w.stuckSince = time.Time{}
		if w.downSince.IsZero() {
			w.downSince = now
		}
	case st.serving && st.stuck != "":
		w.downSince = time.Time{}
		if w.stuckSince.IsZero() {
			w.stuckSince = now
		}
	default: // serving, or listening while it starts: let it
		*w = watch{}
	}
	if !st.down {
		w.seenUp = true
	}
	switch {
	case !w.downSince.IsZero() && now.Sub(w.downSince) >= o.DownAfter:
		return fmt.Sprintf("no kube-apiserver has listened on loopback for %s", ui.Seconds(now.Sub(w.downSince)))
	case !w.stuckSince.IsZero() && now.Sub(w.stuckSince) >= o.StuckAfter:
		return fmt.Sprintf("%s, for %s", st.stuck, ui.Seconds(now.Sub(w.stuckSince)))
	}
	return ""
}

// recoverNow runs `bootstrap recover` on the node's running etcd, once
// that etcd listens (after a boot the kubelet starts both static pods at
// once).
func recoverNow(ctx context.Context, o Options, p *ui.Printer, cfg *v1alpha1.BootstrapConfiguration, why string) error {
	p.Infof("guard", "Recovering the control plane: %s", why)
	begin := time.Now()
	if cfg.Etcd.Local != nil {
		addr := endpoints.EtcdClientAddress(cfg)
		for {
			c, err := (&net.Dialer{Timeout: time.Second}).DialContext(ctx, "tcp", addr)
			if err == nil {
				c.Close()
				break
			}
			if time.Since(begin) > 30*time.Second {
				return fmt.Errorf("etcd does not listen on %s (%v): is its static pod running? (the kubelet's log says why not)", addr, err)
			}
			if !sleep(ctx, 200*time.Millisecond) {
				return ctx.Err()
			}
		}
	}
	err := recovery.Recover(ctx, recovery.RecoverOptions{
		AssetDir: o.AssetDir,
		Timeout:  o.RecoverTimeout,
		Wait:     start.WaitControlPlane,
		// Installed already: it is what runs this; its mount is read-only.
		InstallGuard: false,
	}, p)
	if err != nil {
		return err
	}
	p.Infof("guard", "Control plane recovered in %s", ui.Seconds(time.Since(begin)))
	return nil
}

func sleep(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-t.C:
		return true
	}
}
