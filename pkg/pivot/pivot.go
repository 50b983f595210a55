package pivot

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"time"

	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"

	"github.com/bootstrap-k8s/bootstrap/pkg/apis/bootstrap/v1alpha1"
	"github.com/bootstrap-k8s/bootstrap/pkg/assetlock"
	"github.com/bootstrap-k8s/bootstrap/pkg/assets"
	"github.com/bootstrap-k8s/bootstrap/pkg/failure"
	"github.com/bootstrap-k8s/bootstrap/pkg/start"
	"github.com/bootstrap-k8s/bootstrap/pkg/status"
	"github.com/bootstrap-k8s/bootstrap/pkg/ui"
)

// Mode is how the control plane of the node runs.
type Mode string

const (
	// SelfHosted: the kube-apiserver DaemonSet and the controller-manager
	// and scheduler Deployments.
	SelfHosted Mode = "self-hosted"
	// StaticPods: kube-apiserver, kube-controller-manager and
	// kube-scheduler manifests in the kubelet's staticPodPath.
	StaticPods Mode = "static-pods"
	// Mixed: some of each (a pivot killed half-way; running it again
	// finishes it).
	Mixed Mode = "mixed"
)

// ParseMode reads --to.
func ParseMode(s string) (Mode, error) {
	switch Mode(s) {
	case SelfHosted, StaticPods:
		return Mode(s), nil
	}
	return "", fmt.Errorf("unknown --to %q: use --to %s (the control plane as static pods in the kubelet's staticPodPath) or --to %s (back to the DaemonSet and Deployments)", s, StaticPods, SelfHosted)
}

// Options say where to pivot.
type Options struct {
	AssetDir string
	// Config is the asset dir's configuration when the caller loaded it
	// already (nil: read from the asset dir).
	Config *v1alpha1.BootstrapConfiguration
	To     Mode
	// DryRun checks and plans, and changes nothing.
	DryRun bool
	// Force pivots a Degraded cluster (never an Unhealthy one: without a
	// serving kube-apiserver and etcd quorum there is nothing to hand over).
	Force bool
	// Timeout bounds each wait of the hand-over (default 5m).
	Timeout time.Duration
	// Serving is how many fresh connections in a row must be answered
	// before a kube-apiserver counts as serving (default 10).
	Serving int
}

// Result is what a pivot did (or, with DryRun, would do).
type Result struct {
	From    Mode     `json:"from"`
	To      Mode     `json:"to"`
	DryRun  bool     `json:"dryRun,omitempty"`
	Changed bool     `json:"changed"`
	Steps   []string `json:"steps"`
	// StaticDir holds the files of the static pods (pki/, config/) and the
	// saved workloads (self-hosted/).
	StaticDir string `json:"staticDir"`
}

// StaticDir is where pivot keeps the static pods' files: kubeadm's layout,
// beside the staticPodPath (/etc/kubernetes for /etc/kubernetes/manifests).
func StaticDir(cfg *v1alpha1.BootstrapConfiguration) string {
	return filepath.Dir(filepath.Clean(cfg.Node.StaticPodPath))
}

var errOtherNodes = errors.New("more than one control-plane node")

type flow struct {
	o     Options
	cfg   *v1alpha1.BootstrapConfiguration
	p     *ui.Printer
	admin *rest.Config
	cs    kubernetes.Interface
	root  string
	res   *Result
}

// Run pivots the node's control plane to o.To. It refuses, changing
// nothing, an asset dir of another cluster, an unhealthy cluster (a
// Degraded one with Force only), and a control plane of several nodes.
func Run(ctx context.Context, o Options, p *ui.Printer) (*Result, error) {
	if o.Timeout <= 0 {
		o.Timeout = 5 * time.Minute
	}
	if o.Serving <= 0 {
		o.Serving = 10
	}
	if o.To != SelfHosted && o.To != StaticPods {
		_, err := ParseMode(string(o.To))
		return nil, failure.InvalidConfig(err)
	}
	if err := start.CheckAssetDir(o.AssetDir); err != nil {
		return nil, failure.Preflight(err)
	}
	abs, err := filepath.Abs(o.AssetDir)
	if err != nil {
		return nil, err
	}
	o.AssetDir = abs
	cfg := o.Config
	if cfg == nil {
		if cfg, err = v1alpha1.Load(assets.Path(o.AssetDir, assets.ConfigFile)); err != nil {
			return nil, failure.InvalidConfig(err)
		}
	}
	release, err := assetlock.Lock(o.AssetDir)
	if err != nil {
		return nil, failure.Preflight(err)
	}
	defer release()
	f := &flow{o: o, cfg: cfg, p: p, root: StaticDir(cfg), res: &Result{To: o.To, DryRun: o.DryRun, StaticDir: StaticDir(cfg)}}
	if f.admin, err = clientcmd.BuildConfigFromFlags("", assets.Path(o.AssetDir, assets.AdminKubeconfig)); err != nil {
		return nil, err
	}
	f.admin.Timeout = 15 * time.Second
	if f.cs, err = kubernetes.NewForConfig(f.admin); err != nil {
		return nil, err
	}

	done := p.Start("pivot", "Checking that the asset dir is this cluster's")
	if err := sameCluster(ctx, f.cs, cfg, o.AssetDir); err != nil {
		return nil, failure.Preflight(err)
	}
	done()
	st, err := f.observe(ctx)
	if err != nil {
		return nil, err
	}
	f.res.From = st.mode()
	if f.res.From == o.To {
		p.Infof("pivot", "The control plane of node %s already runs as %s (%s): nothing to do", cfg.Node.Name, o.To, st)
		return f.res, nil
	}
	p.Infof("pivot", "The control plane of node %s runs as %s (%s); pivoting to %s", cfg.Node.Name, f.res.From, st, o.To)
	if err := f.checkHealth(ctx, st); err != nil {
		return nil, err
	}
	if o.To == StaticPods {
		err = f.toStaticPods(ctx, st)
	} else {
		err = f.toSelfHosted(ctx, st)
	}
	if err != nil {
		return f.res, err
	}
	if o.DryRun {
		p.Infof("pivot", "Dry run: nothing was changed")
	} else {
		p.Infof("pivot", "The control plane of node %s runs as %s", cfg.Node.Name, o.To)
	}
	return f.res, nil
}

// checkHealth refuses a cluster that is not Healthy: a pivot hands
// kube-apiserver, the controller-manager and the scheduler over one after
// the other and needs each side to serve. Degraded goes on with Force
// (e.g. CoreDNS not ready, a certificate close to expiry); Unhealthy never.
func (f *flow) checkHealth(ctx context.Context, st *state) error {
	if len(st.otherControlPlaneNodes) > 0 {
		return failure.Preflight(fmt.Errorf("%w: %s also run the control plane; pivot converts a one-node control plane (remove the other nodes with bootstrap leave first); nothing was changed", errOtherNodes, strings.Join(st.otherControlPlaneNodes, ", ")))
	}
	done := f.p.Start("pivot", "Checking that the control plane is healthy (bootstrap status)")
	rep, err := status.Check(ctx, status.Options{AssetDir: f.o.AssetDir, Config: f.cfg, Thresholds: status.Thresholds{CertWarning: time.Nanosecond}})
	if err != nil {
		return err
	}
	done()
	switch rep.Overall {
	case status.Healthy:
		return nil
	case status.Degraded:
		if f.o.Force {
			f.p.Infof("pivot", "Warning: the control plane is Degraded (%s); pivoting anyway (--force)", rep.Reason)
			return nil
		}
		return failure.Preflight(fmt.Errorf("the control plane is Degraded (%s): pivot hands the control plane over one component at a time and needs a healthy cluster to stay available; fix it first (bootstrap status --asset-dir %s), or pass --force; nothing was changed", rep.Reason, f.o.AssetDir))
	}
	return failure.Preflight(fmt.Errorf("the control plane is %s (%s): there is nothing to hand over from (--force does not override this); bring it back first (bootstrap recover --asset-dir %s); nothing was changed", rep.Overall, rep.Reason, f.o.AssetDir))
}

func (f *flow) step(format string, args ...any) {
	s := fmt.Sprintf(format, args...)
	f.res.Steps = append(f.res.Steps, s)
	if f.o.DryRun {
		f.p.Infof("pivot", "Would: %s", s)
		return
	}
	f.res.Changed = true
	f.p.Infof("pivot", "%s", s)
}
