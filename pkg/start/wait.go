package start

import (
	"context"
	"fmt"
	"strings"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/version"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"k8s.io/utils/ptr"

	"github.com/bootstrap-k8s/bootstrap/pkg/kubeprobe"
	"github.com/bootstrap-k8s/bootstrap/pkg/poddiag"
	"github.com/bootstrap-k8s/bootstrap/pkg/waitfor"
)

// waitFor polls check until it reports done, printing what is still missing
// every 15 s and returning the last state on timeout: bootkube's silent
// "Unable to determine api-server readiness" must never happen here.
//
// It polls every 100 ms: every check is one or two requests to an apiserver
// on this node, and start's waits are its critical path.
func waitFor(ctx context.Context, what string, timeout time.Duration, report func(string), check func(ctx context.Context) (done bool, state string)) error {
	_, err := waitfor.Until(ctx, waitfor.Options{What: what, Timeout: timeout, Report: report, Interval: 100 * time.Millisecond}, func(ctx context.Context) (bool, string, error) {
		done, state := check(ctx)
		return done, state, nil
	})
	return err
}

// isTemporary tells the temporary apiserver's /version from kube-apiserver's.
type isTemporary func(*version.Info) bool

// waitSelfHostedServing waits until `need` fresh connections in a row reach
// a kube-apiserver that answers /readyz and an authorized read: "Running" is
// not "serving". Each probe goes to the first of cfgs that accepts a
// connection: kube-apiserver's loopback address, where the temporary
// apiserver never listens, then the shared address (asset dirs rendered
// before kube-apiserver bound the wildcard address; there the kernel's
// SO_REUSEPORT spreading sends some fresh connections past the temporary
// apiserver).
//
// changed, if not nil, gets every new state as it comes (start -v 1 prints
// them with their time: which of kube-apiserver's readiness checks pass
// last is most of the hand-over).
func waitSelfHostedServing(ctx context.Context, cfgs []*rest.Config, isTemp isTemporary, need int, timeout time.Duration, report, changed func(string)) error {
	served, last := 0, ""
	return waitFor(ctx, "the self-hosted kube-apiserver to serve", timeout, report, func(ctx context.Context) (bool, string) {
		// Once one probe passes, the next ones follow at once: each is a new
		// connection, which is what the count is about, not time.
		for {
			ok, state := probeSelfHosted(ctx, cfgs, isTemp, &served, need)
			if changed != nil && state != last {
				changed(state)
				last = state
			}
			if !ok || served >= need {
				return ok && served >= need, state
			}
		}
	})
}

// probeSelfHosted is one probe of waitSelfHostedServing over a fresh
// connection; served counts the probes in a row that kube-apiserver passed.
func probeSelfHosted(ctx context.Context, cfgs []*rest.Config, isTemp isTemporary, served *int, need int) (bool, string) {
	var c *kubeprobe.Client
	var info *version.Info
	var err error
	for _, cfg := range cfgs {
		if c, err = kubeprobe.Fresh(cfg); err != nil {
			return false, err.Error()
		}
		if info, err = c.Version(); err == nil || !kubeprobe.IsDialError(err) {
			break
		}
		c.Close()
	}
	defer c.Close()
	if err != nil {
		return false, "GET " + c.Host + "/version: " + err.Error()
	}
	if isTemp(info) {
		return false, fmt.Sprintf("%d/%d probes reached kube-apiserver; this one reached the temporary apiserver", *served, need)
	}
	if err := c.Ready(ctx); err != nil {
		*served = 0
		return false, "kube-apiserver /readyz: " + err.Error()
	}
	if err := c.CanRead(ctx); err != nil {
		*served = 0
		return false, "kube-apiserver GET kube-system as the admin: " + err.Error()
	}
	*served++
	return true, fmt.Sprintf("%d/%d probes answered by kube-apiserver %s on %s", *served, need, info.GitVersion, c.Host)
}

// waitLeaseHeld waits until a leader-elected component holds its lease.
func waitLeaseHeld(ctx context.Context, cs kubernetes.Interface, ns, name string, timeout time.Duration, report func(string)) error {
	return waitFor(ctx, "lease "+ns+"/"+name+" to be held", timeout, report, func(ctx context.Context) (bool, string) {
		l, err := cs.CoordinationV1().Leases(ns).Get(ctx, name, metav1.GetOptions{})
		if err != nil {
			return false, err.Error()
		}
		if l.Spec.HolderIdentity == nil || *l.Spec.HolderIdentity == "" || l.Spec.RenewTime == nil {
			return false, "no holder"
		}
		dur := 15 * time.Second
		if l.Spec.LeaseDurationSeconds != nil {
			dur = time.Duration(*l.Spec.LeaseDurationSeconds) * time.Second
		}
		if time.Since(l.Spec.RenewTime.Time) > dur {
			return false, fmt.Sprintf("held by %s but not renewed since %s", *l.Spec.HolderIdentity, l.Spec.RenewTime.Format(time.RFC3339))
		}
		return true, "held by " + *l.Spec.HolderIdentity
	})
}

// waitDaemonSetRolledOut waits until the DaemonSet controller reports every
// node it wants running an up-to-date, available pod. The pod bootstrap
// placed counts: it is made exactly as the controller would make it.
func waitDaemonSetRolledOut(ctx context.Context, cs kubernetes.Interface, ns, name string, timeout time.Duration, report func(string)) error {
	return waitFor(ctx, "DaemonSet "+ns+"/"+name, timeout, report, func(ctx context.Context) (bool, string) {
		ds, err := cs.AppsV1().DaemonSets(ns).Get(ctx, name, metav1.GetOptions{})
		if err != nil {
			return false, err.Error()
		}
		s := ds.Status
		ready, _, podState := podsReady(ctx, cs, ns, ds.Spec.Selector)
		state := fmt.Sprintf("%d desired, %d up to date, %d available (generation %d observed %d); %s",
			s.DesiredNumberScheduled, s.UpdatedNumberScheduled, s.NumberAvailable, ds.Generation, s.ObservedGeneration, podState)
		return s.ObservedGeneration >= ds.Generation && s.DesiredNumberScheduled > 0 &&
			s.UpdatedNumberScheduled >= s.DesiredNumberScheduled && s.NumberAvailable >= s.DesiredNumberScheduled &&
			ready >= s.DesiredNumberScheduled, state
	})
}

// waitDeploymentAvailable waits until a Deployment has its replicas available.
func waitDeploymentAvailable(ctx context.Context, cs kubernetes.Interface, ns, name string, timeout time.Duration, report func(string)) error {
	return waitFor(ctx, "Deployment "+ns+"/"+name, timeout, report, func(ctx context.Context) (bool, string) {
		d, err := cs.AppsV1().Deployments(ns).Get(ctx, name, metav1.GetOptions{})
		if err != nil {
			return false, err.Error()
		}
		return deploymentReady(ctx, cs, d)
	})
}

// deploymentReady: the Deployment's status says available, and so do its
// pods. After a recovery the status in etcd can be as old as the backup (or
// the loss) until the controller-manager catches up; the kubelet's pod
// statuses are fresher.
func deploymentReady(ctx context.Context, cs kubernetes.Interface, d *appsv1.Deployment) (bool, string) {
	ok, state := deploymentAvailable(d)
	ready, _, podState := podsReady(ctx, cs, d.Namespace, d.Spec.Selector)
	return ok && ready >= ptr.Deref(d.Spec.Replicas, 1), state + "; " + podState
}

// waitPodsReady waits until at least want pods a selector matches are Ready.
func waitPodsReady(ctx context.Context, cs kubernetes.Interface, ns string, sel *metav1.LabelSelector, want int32, timeout time.Duration, report func(string)) error {
	return waitFor(ctx, "pods "+metav1.FormatLabelSelector(sel)+" in "+ns, timeout, report, func(ctx context.Context) (bool, string) {
		ready, _, state := podsReady(ctx, cs, ns, sel)
		return ready >= want, state
	})
}

// waitExistingPodsReady waits until every non-terminating pod a selector
// matches is Ready; none at all counts as done. (A static pod's mirror pod
// can take the kubelet a sync period, up to a minute, to re-create after a
// recovery; the component itself was checked directly.)
func waitExistingPodsReady(ctx context.Context, cs kubernetes.Interface, ns string, sel *metav1.LabelSelector, timeout time.Duration, report func(string)) error {
	return waitFor(ctx, "pods "+metav1.FormatLabelSelector(sel)+" in "+ns, timeout, report, func(ctx context.Context) (bool, string) {
		ready, total, state := podsReady(ctx, cs, ns, sel)
		return ready == total && !strings.HasPrefix(state, "error: "), state
	})
}

// podsReady counts the Ready and all non-terminating pods a selector matches.
func podsReady(ctx context.Context, cs kubernetes.Interface, ns string, sel *metav1.LabelSelector) (ready, total int32, state string) {
	s, err := metav1.LabelSelectorAsSelector(sel)
	if err != nil {
		return 0, 0, "error: " + err.Error()
	}
	pods, err := cs.CoreV1().Pods(ns).List(ctx, metav1.ListOptions{LabelSelector: s.String()})
	if err != nil {
		return 0, 0, "error: " + err.Error()
	}
	for i := range pods.Items {
		if pods.Items[i].DeletionTimestamp != nil {
			continue
		}
		total++
		if poddiag.Ready(&pods.Items[i]) {
			ready++
		}
	}
	return ready, total, fmt.Sprintf("%d/%d pods ready", ready, total)
}

func deploymentAvailable(d *appsv1.Deployment) (bool, string) {
	want := int32(1)
	if d.Spec.Replicas != nil {
		want = *d.Spec.Replicas
	}
	s := d.Status
	state := fmt.Sprintf("%d/%d available, %d updated", s.AvailableReplicas, want, s.UpdatedReplicas)
	return s.ObservedGeneration >= d.Generation && s.AvailableReplicas >= want && s.UpdatedReplicas >= want, state
}
