package start

import (
	"context"
	"fmt"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"

	"github.com/bootstrap-k8s/bootstrap/pkg/apis/bootstrap/v1alpha1"
	"github.com/bootstrap-k8s/bootstrap/pkg/assets"
	"github.com/bootstrap-k8s/bootstrap/pkg/failure"
	"github.com/bootstrap-k8s/bootstrap/pkg/kubeapply"
	"github.com/bootstrap-k8s/bootstrap/pkg/phases"
	"github.com/bootstrap-k8s/bootstrap/pkg/tempcontrolplane"
	"github.com/bootstrap-k8s/bootstrap/pkg/ui"
)

// Options are the flags of `bootstrap start`.
type Options struct {
	AssetDir              string
	Timeout               time.Duration
	IgnorePreflightErrors []string

	// Mode is what the flow starts from (default Fresh); Recovery holds what
	// the recovery modes need.
	Mode     Mode
	Recovery Recovery
	// Wait is what start waits for before it exits: WaitControlPlane (etcd,
	// kube-apiserver, a Ready controller-manager and scheduler, as kubeadm
	// init) or WaitAll (also every replica, the
	// kube-apiserver DaemonSet's own status, kube-proxy and CoreDNS).
	Wait string
	// InstallGuard installs the guard static pod at the end (pkg/guard):
	// the node then brings its control plane back after a reboot by itself.
	InstallGuard bool
}

// What start waits for (Options.Wait, --wait).
const (
	WaitControlPlane = "control-plane"
	WaitAll          = "all"
)

// flow is the state the phases of one `start` share.
type flow struct {
	o        Options
	cfg      *v1alpha1.BootstrapConfiguration
	p        *ui.Printer
	deadline time.Time

	temp      *tempcontrolplane.ControlPlane
	tempCS    kubernetes.Interface
	admin     *rest.Config
	adminCS   kubernetes.Interface
	learnerID uint64
	// resumed: a self-hosted kube-apiserver of this cluster already serves
	// (an earlier run got past the hand-over); only what is missing is done.
	resumed bool
	// placedEarly: the controller-manager and scheduler pods were placed (or
	// found) together with kube-apiserver, before the hand-over.
	placedEarly bool
	// began: when this run began (waitAPIServerPod).
	began time.Time
	// handedOver: this run's hand-over saw the self-hosted kube-apiserver
	// answer /readyz on this node (waitAPIServerPod).
	handedOver bool
	// bootRemoval delivers the outcome of the boot member's removal, which
	// runs beside the phases after the hand-over.
	bootRemoval chan error
	// defaultRBAC delivers what the background creation of the default RBAC
	// policy did (collected by the hand-over).
	defaultRBAC chan string
	// leaseRelease delivers what releaseWhenStale did with the leases that
	// were not stale yet when the controllers were placed (recovery only).
	leaseRelease chan []string
	// early: the temporary apiserver's start that a recovery from a saved
	// state begins while the restored member starts (temp.go).
	early *earlyTemp
	// etcdServes is closed once the restored member serves (Restore mode):
	// the early temporary apiserver serves from then on.
	etcdServes chan struct{}
}

// Run brings up the self-hosted control plane described by the asset dir.
// Every phase converges when re-run after a failure or a kill.
func Run(ctx context.Context, o Options, p *ui.Printer) (err error) {
	if o.Timeout == 0 {
		o.Timeout = 10 * time.Minute
	}
	switch o.Wait {
	case "":
		o.Wait = WaitControlPlane
	case WaitControlPlane, WaitAll:
	default:
		return failure.InvalidConfig(fmt.Errorf("--wait=%q: want %s (etcd, kube-apiserver, controller-manager, scheduler) or %s (also kube-proxy, CoreDNS and every replica)", o.Wait, WaitControlPlane, WaitAll))
	}
	if err := o.validateMode(); err != nil {
		return err
	}
	// Said first: as another user the asset dir (0700) cannot even be read,
	// and the asset dir check would report every file missing.
	if err := checkRoot(); err != nil && !ignores(o.IgnorePreflightErrors, rootCheck) {
		return failure.Preflight(fmt.Errorf("%w (or skip this check with --ignore-preflight-errors=%s)", err, rootCheck))
	}
	// A missing or partial asset dir is a preflight failure, said before
	// anything reads it: render first.
	if err := CheckAssetDir(o.AssetDir); err != nil {
		return failure.Preflight(err)
	}
	cfg, err := v1alpha1.Load(assets.Path(o.AssetDir, assets.ConfigFile))
	if err != nil {
		return err
	}
	if err := checkNotPivoted(cfg, o.AssetDir); err != nil {
		return failure.Preflight(err)
	}
	release, err := lockAssetDir(o.AssetDir)
	if err != nil {
		return err
	}
	defer release()
	f := &flow{o: o, cfg: cfg, p: p, began: time.Now(), deadline: time.Now().Add(o.Timeout)}
	ctx, cancel := context.WithDeadline(ctx, f.deadline)
	defer cancel()
	if f.admin, err = clientcmd.BuildConfigFromFlags("", assets.Path(o.AssetDir, assets.AdminKubeconfig)); err != nil {
		return fmt.Errorf("%s: %w", assets.AdminKubeconfig, err)
	}
	if f.adminCS, err = kubernetes.NewForConfig(f.admin); err != nil {
		return err
	}
	if done, err := f.detectState(ctx); err != nil || done {
		if err == nil && o.InstallGuard {
			// A cluster started before the guard existed gets it now.
			return f.installGuard(ctx)
		}
		return err
	}
	defer func() {
		if f.bootRemoval != nil { // a failure after the removal started: its outcome first
			if rerr := <-f.bootRemoval; rerr != nil {
				p.Linef("%v", rerr)
			}
		}
		f.abandonEarlyTemp()
		if f.temp != nil {
			f.temp.Stop()
		}
		if err != nil && !failure.IsPreflight(err) {
			p.Linef("\nThe control plane is not up. What is not ready:\n%s\nNothing was deleted: fix the cause and re-run `bootstrap start --asset-dir %s`; it continues where it stopped.", f.diagnose(), o.AssetDir)
		}
	}()
	r := phases.New(p)
	start := time.Now()
	err = r.Run(ctx,
		phases.Phase{Name: "preflight", Title: "Checking the node", Run: f.preflight},
		phases.Phase{Name: "restore", Title: "Restoring the saved etcd state", Run: f.restore,
			Skip: func(context.Context) (string, error) {
				if o.Mode != Restore {
					return "nothing to restore", nil
				}
				return "", nil
			}},
		phases.Phase{Name: "temp-control-plane", Title: f.tempTitle(), Run: f.startTemp, Skip: f.skipTemp},
		phases.Phase{Name: "hold-back", Title: "Holding back the saved surplus controller replicas on this node", Run: f.holdBack, Skip: f.skipHoldBack},
		phases.Phase{Name: "etcd", Title: "Adding the persistent etcd member (static pod) as a learner", Run: f.etcdJoin, Skip: f.skipEtcdMove},
		phases.Phase{Name: "apply", Title: "Applying " + assets.ManifestsDir + " in tiers", Run: f.apply},
		phases.Phase{Name: "node", Title: "Waiting for the kubelet to register node " + cfg.Node.Name, Run: f.node},
		// kube-apiserver is placed before the learner's promotion: its pod's
		// sandbox and its own start-up take about a second before it first
		// reads etcd, in which a fresh state (a few dozen objects) is
		// caught up and promoted.
		phases.Phase{Name: "apiserver", Title: "Placing the first self-hosted control-plane pods", Run: f.placeAPIServer},
		phases.Phase{Name: "default-rbac", Title: "Creating the default RBAC policy (in the background of the next phases)", Run: f.createDefaultRBACInBackground, Skip: f.skipDefaultRBAC},
		phases.Phase{Name: "etcd-promote", Title: "Promoting the persistent etcd member once it caught up", Run: f.etcdPromote, Skip: f.skipEtcdMove},
		phases.Phase{Name: "hand-over", Title: "Handing the API over to the self-hosted kube-apiserver", Run: f.handOver, Skip: f.skipWithoutTemp},
		phases.Phase{Name: "etcd-cleanup", Title: "Removing the boot etcd member (in the background of the next phases)", Run: f.removeBootMemberInBackground, Skip: f.skipWithoutTemp},
		phases.Phase{Name: "control-plane", Title: "Placing kube-controller-manager and kube-scheduler", Run: f.placeControllers,
			Skip: func(context.Context) (string, error) {
				if f.placedEarly {
					return "placed together with kube-apiserver", nil
				}
				return "", nil
			}},
		phases.Phase{Name: "wait", Title: "Waiting for the self-hosted control plane to be ready", Run: f.waitReady},
		phases.Phase{Name: "etcd-cleanup-done", Title: "Waiting for the boot etcd member's removal", Run: f.bootMemberRemoved, Skip: f.skipBootMemberRemoved},
		phases.Phase{Name: "leases", Title: "Releasing the leases of stopped controllers", Run: f.leasesReleased, Skip: f.skipLeasesReleased},
		phases.Phase{Name: "guard", Title: "Installing the control-plane guard", Run: f.installGuard, Skip: f.skipGuard},
	)
	if err != nil {
		return err
	}
	p.Infof("start", "The self-hosted control plane is up in %s", ui.Seconds(time.Since(start)))
	for _, d := range r.Durations() {
		p.Detailf("start", "%-20s %s", d.Name, ui.Seconds(d.Elapsed))
	}
	f.nextSteps()
	return nil
}

func (f *flow) report(msg string) { f.p.Infof("wait", "%s", msg) }

// cs is the client of whichever apiserver currently serves: the temporary
// one until the hand-over, kube-apiserver after it.
func (f *flow) cs() kubernetes.Interface {
	if f.temp != nil && f.tempCS != nil {
		return f.tempCS
	}
	return f.adminCS
}

func (f *flow) skipWithoutTemp(context.Context) (string, error) {
	if f.temp == nil {
		if f.external() {
			return "no boot etcd member: etcd kept running", nil
		}
		return "kube-apiserver already serves and the boot etcd member is gone", nil
	}
	return "", nil
}

func (f *flow) tempTitle() string {
	if f.external() {
		return "Starting the temporary apiserver on the running etcd"
	}
	return "Starting the boot etcd member and the temporary apiserver"
}

// external: recovering on an etcd that runs outside this process (the one
// given, or the restored persistent member): no boot member, no etcd move.
func (f *flow) external() bool { return f.o.Mode.recovering() }

func (f *flow) skipEtcdMove(ctx context.Context) (string, error) {
	if f.external() {
		return "etcd runs at " + strings.Join(f.etcdEndpoints(), ",") + ": nothing to move", nil
	}
	return f.skipWithoutTemp(ctx)
}

func (f *flow) remaining() time.Duration { return time.Until(f.deadline) }

func (f *flow) preflight(ctx context.Context) error {
	return runPreflight(ctx, f.p, preflightFor(f.o, f.cfg, f.resumed), f.o.IgnorePreflightErrors)
}

func (f *flow) apply(ctx context.Context) error {
	objs, err := kubeapply.ReadManifests(assets.Path(f.o.AssetDir, assets.ManifestsDir))
	if err != nil {
		return err
	}
	cfg := f.admin
	if f.temp != nil {
		cfg = f.temp.AdminConfig()
	}
	a, err := kubeapply.NewApplier(cfg, func(format string, args ...any) { f.p.Detailf("apply", format, args...) })
	if err != nil {
		return err
	}
	if f.o.Mode.recovering() && !f.o.Recovery.ReapplyAssets {
		created, err := a.CreateMissing(ctx, objs, time.Minute)
		if err != nil {
			return err
		}
		f.p.Infof("apply", "Created %d objects the restored state lacked; kept the other %d as they were", created, len(objs)-created)
		return nil
	}
	if err := a.ApplyInTiers(ctx, objs, time.Minute); err != nil {
		return err
	}
	f.p.Infof("apply", "Applied %d objects", len(objs))
	return nil
}

func (f *flow) node(ctx context.Context) error {
	if _, err := waitForNode(ctx, f.cs(), f.cfg.Node.Name, f.remaining(), f.report); err != nil {
		return err
	}
	return labelControlPlane(ctx, f.cs(), f.cfg.Node.Name)
}

func (f *flow) placeAPIServer(ctx context.Context) error {
	pod, created, err := placeDaemonSetPod(ctx, f.cs(), assets.KubeSystem, assets.KubeAPIServer, f.cfg.Node.Name)
	if err != nil {
		return err
	}
	f.p.Infof("apiserver", "%s", placed(pod, created, f.cfg.Node.Name))
	// The controller-manager and scheduler start together with kube-apiserver
	// when they reach it on loopback, where the temporary apiserver never
	// answers; with kubeconfigs on the shared address (older asset dirs) they
	// wait for the hand-over (control-plane phase).
	for _, name := range []string{assets.KubeControllerManager, assets.KubeScheduler} {
		if ok, why := usesLoopback(ctx, f.cs(), assets.KubeSystem, name); !ok {
			f.p.Detailf("apiserver", "%s is placed after the hand-over: %s", name, why)
			return nil
		}
	}
	f.placedEarly = true
	return f.placeDeployments(ctx, "apiserver")
}

func (f *flow) handOver(ctx context.Context) error {
	loopback := rest.CopyConfig(f.admin)
	loopback.Host = assets.LoopbackURL(f.cfg)
	begin := time.Now()
	changed := func(state string) { f.p.Detailf("hand-over", "+%s %s", ui.Seconds(time.Since(begin)), state) }
	if err := waitSelfHostedServing(ctx, []*rest.Config{loopback, f.admin}, tempcontrolplane.IsTemporary, 3, f.remaining(), f.report, changed); err != nil {
		return err
	}
	f.defaultRBACCreated() // done long before: it uses the temporary apiserver
	start := time.Now()
	// Its open connections close in the background (etcd-cleanup waits for
	// that): the in-flight requests' grace period is nobody's critical path.
	if err := f.temp.StopAccepting(); err != nil {
		return err
	}
	f.p.Infof("hand-over", "Temporary apiserver stopped accepting in %s; kube-apiserver serves alone", ui.Seconds(time.Since(start)))
	f.handedOver = true
	// From here on the admin client talks to kube-apiserver on connections
	// of its own, never on one the temporary apiserver is closing.
	cs, err := newUncachedClientset(f.admin)
	if err != nil {
		return err
	}
	f.adminCS = cs
	if f.external() { // no boot member to remove: done with the temporary control plane
		err := f.temp.Stop()
		f.temp = nil
		return err
	}
	return nil
}

func (f *flow) placeControllers(ctx context.Context) error {
	return f.placeDeployments(ctx, "control-plane")
}

// placeDeployments places a controller-manager and a scheduler pod on the
// node, through whichever apiserver serves.
func (f *flow) placeDeployments(ctx context.Context, phase string) error {
	if f.o.Mode.recovering() {
		said, pending, err := releaseStaleLeases(ctx, f.cs(), f.cfg.Node.Name, time.Now(), componentRunsHere(f.cs()))
		for _, s := range said {
			f.p.Infof(phase, "%s", s)
		}
		if err != nil {
			return err
		}
		if len(pending) > 0 && f.leaseRelease == nil {
			done, cs := make(chan []string, 1), f.adminCS // the temporary apiserver may be gone by then
			f.leaseRelease = done
			go func() { done <- releaseWhenStale(ctx, cs, pending) }()
		}
	}
	for _, name := range []string{assets.KubeControllerManager, assets.KubeScheduler} {
		pod, created, err := placeDeploymentPod(ctx, f.cs(), assets.KubeSystem, name, f.cfg.Node.Name)
		if err != nil {
			return err
		}
		f.p.Infof(phase, "%s", placed(pod, created, f.cfg.Node.Name))
	}
	return nil
}

// placed says whether bootstrap created a pod or found one already there
// (a re-run, or a recovery with pods that survived the loss).
func placed(pod *corev1.Pod, created bool, node string) string {
	if created {
		return fmt.Sprintf("Pod %s/%s placed on %s", pod.Namespace, pod.Name, node)
	}
	return fmt.Sprintf("Pod %s/%s already on %s: kept", pod.Namespace, pod.Name, node)
}
