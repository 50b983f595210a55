package start

import (
	"context"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/bootstrap-k8s/bootstrap/pkg/assets"
	"github.com/bootstrap-k8s/bootstrap/pkg/poddiag"
	"github.com/bootstrap-k8s/bootstrap/pkg/ui"
)

// waitReady is the wait phase: what start waits for before it reports
// success (--wait).
func (f *flow) waitReady(ctx context.Context) error {
	ns := assets.KubeSystem
	begin := time.Now()
	// Each step's time since the phase began goes to -v 1 output: the wait
	// is most of start's time, and this says where.
	step := func(what string, err error) error {
		if err == nil {
			f.p.Detailf("wait", "%-40s ready at +%s", what, ui.Seconds(time.Since(begin)))
		}
		return err
	}
	// A kube-apiserver pod of the current DaemonSet, bound here, Ready (but
	// see waitAPIServerPod) and not terminating: after a resume the
	// apiserver that answered may be one that is on its way out (its
	// DaemonSet deleted and re-created).
	if err := step("a live kube-apiserver pod", f.waitAPIServerPod(ctx)); err != nil {
		return err
	}
	// The persistent etcd member serves (it was promoted), but its mirror
	// pod's readiness is what `kubectl get pods` shows: wait for that too.
	etcdPods := &metav1.LabelSelector{MatchLabels: map[string]string{assets.ComponentLabel: "etcd"}}
	if err := step("etcd pod", waitExistingPodsReady(ctx, f.adminCS, ns, etcdPods, f.remaining(), f.report)); err != nil {
		return err
	}
	for _, name := range []string{assets.KubeControllerManager, assets.KubeScheduler} {
		if f.waitLeases() {
			if err := step("lease "+name, waitLeaseHeld(ctx, f.adminCS, ns, name, f.remaining(), f.report)); err != nil {
				return err
			}
		}
		sel := &metav1.LabelSelector{MatchLabels: map[string]string{assets.ComponentLabel: name}}
		if err := step("a Ready "+name+" pod", waitPodsReady(ctx, f.adminCS, ns, sel, 1, f.remaining(), f.report)); err != nil {
			return err
		}
	}
	if f.o.Wait != WaitAll {
		return nil
	}
	for _, ds := range []string{assets.KubeAPIServer, assets.KubeProxy} {
		if err := step("DaemonSet "+ds, waitDaemonSetRolledOut(ctx, f.adminCS, ns, ds, f.remaining(), f.report)); err != nil {
			return err
		}
	}
	for _, d := range []string{assets.KubeControllerManager, assets.KubeScheduler} {
		if err := step("Deployment "+d, waitDeploymentAvailable(ctx, f.adminCS, ns, d, f.remaining(), f.report)); err != nil {
			return err
		}
	}
	return step("Deployment "+assets.CoreDNS, f.waitCoreDNS(ctx))
}

// waitLeases: whether the wait phase also waits for a controller-manager and
// a scheduler to hold their leases (--wait=all only). Without a lease record
// (a fresh cluster, or one a recovery released because its holder provably
// stopped: the leases phase waits for those releases) the first replica to
// ask once kube-apiserver serves takes each, at its next election retry
// (every 2-4.4 s, jittered), as on a kubeadm node, whose init waits for
// their health checks only (the Ready pods here).
func (f *flow) waitLeases() bool { return f.o.Wait == WaitAll }

// waitAPIServerPod waits for a live kube-apiserver pod of the current
// DaemonSet on this node: Ready, or, right after this run's own hand-over,
// running in containers started during this run. The hand-over has just
// seen /readyz answer on loopback three times, where only this node's
// kube-apiserver listens (what kubeadm init checks, too); the kubelet's
// Ready follows at its next startup probe, up to a second later. The start
// times prove the status fresh: a restored state holds its pods' statuses
// of the time of the backup (Ready then), and a resumed run may find a
// container of an earlier one.
func (f *flow) waitAPIServerPod(ctx context.Context) error {
	ns, node := assets.KubeSystem, f.cfg.Node.Name
	ok, what := poddiag.Ready, "Ready"
	if f.handedOver {
		since := f.began.Truncate(time.Second) // the API's times are whole seconds
		ok = func(p *corev1.Pod) bool {
			return poddiag.Ready(p) || (containersRunning(p) && containersStartedSince(p, since))
		}
		what = "Ready, or running since this run began (it answered the hand-over's /readyz probes)"
	}
	return waitFor(ctx, "a live kube-apiserver pod on "+node, f.remaining(), f.report, func(ctx context.Context) (bool, string) {
		ds, err := f.adminCS.AppsV1().DaemonSets(ns).Get(ctx, assets.KubeAPIServer, metav1.GetOptions{})
		if err != nil {
			return false, err.Error()
		}
		return livePodOnNode(ctx, f.adminCS, ns, ds.Spec.Template.Labels, node, ownedBy(ds.UID), ok, what)
	})
}
