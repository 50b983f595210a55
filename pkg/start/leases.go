package start

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	coordinationv1 "k8s.io/api/coordination/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/utils/ptr"

	"github.com/bootstrap-k8s/bootstrap/pkg/assets"
	"github.com/bootstrap-k8s/bootstrap/pkg/portcheck"
)

// A recovery restores the controllers' leases as they were at the loss: held
// by a controller-manager and a scheduler that no longer run. Left alone,
// the new replicas wait a whole lease duration (15 s) after they first see
// such a record before they take it: leader election cannot trust the
// holder's renewTime, written by another node's clock.
//
// The recovery can prove more than a candidate can:
//   - a holder that has not renewed for longer than the lease duration has
//     stopped leading: client-go's elector gives up (and kube-controller-
//     manager and kube-scheduler exit) once renewals fail for the renew
//     deadline, which is shorter than the lease duration;
//   - renewTime was written by this node's clock when no other node runs a
//     control plane: this node is the only one the state labels as control
//     plane, so every holder ran here.
//
//   - a holder renewed recently does not run when nothing on this node
//     listens on its component's secure port: kube-controller-manager and
//     kube-scheduler serve that port (host network) before they campaign
//     for their lease, and for as long as they run. Whatever holder the
//     state names ran on this node, which then has no such process.
//
// With the only-control-plane-node proof and one of the other two, the lease
// is deleted (guarded by its UID and resourceVersion, so a renewal in
// between wins) and the first new replica takes it at once. With another
// control-plane node in the state (HA) nothing is touched: a controller
// there may hold the lease and renew it as soon as the API is back. When the
// port is busy (a replica the kubelet already started, the holder or not),
// the lease is released at renewTime + duration unless renewed
// (releaseWhenStale).

// staleLeaseNames are the leases of the leader-elected control-plane
// components start places.
var staleLeaseNames = []string{assets.KubeControllerManager, assets.KubeScheduler}

// pendingLease is a lease renewed within its duration by a holder that runs
// on this node only: at At (renewTime + duration) the same proof holds and
// it can be released then, unless its holder renews it meanwhile.
type pendingLease struct {
	lease *coordinationv1.Lease
	at    time.Time
}

// runsHere says whether the named component may run on this node, and why.
type runsHere func(ctx context.Context, name string) (bool, string)

// releaseStaleLeases deletes the leases of staleLeaseNames whose holders
// provably stopped leading or do not run, and says for each lease what it
// did and why. Leases that are not stale yet but could be released at a
// known instant are returned as pending (releaseWhenStale).
func releaseStaleLeases(ctx context.Context, cs kubernetes.Interface, node string, now time.Time, runs runsHere) ([]string, []pendingLease, error) {
	others, err := otherControlPlaneNodes(ctx, cs, node)
	if err != nil {
		return nil, nil, err
	}
	var said []string
	var pending []pendingLease
	for _, name := range staleLeaseNames {
		l, err := cs.CoordinationV1().Leases(assets.KubeSystem).Get(ctx, name, metav1.GetOptions{})
		if apierrors.IsNotFound(err) {
			continue
		}
		if err != nil {
			return said, pending, fmt.Errorf("reading lease %s/%s: %w", assets.KubeSystem, name, err)
		}
		stale, why := leaseStale(l, now)
		if !stale && len(others) == 0 && l.Spec.RenewTime != nil {
			if running, how := runs(ctx, name); !running {
				stale, why = true, why+", but "+how
			}
		}
		switch {
		case !stale && len(others) == 0 && l.Spec.RenewTime != nil:
			at := staleAt(l)
			pending = append(pending, pendingLease{lease: l, at: at})
			said = append(said, fmt.Sprintf("Lease %s/%s kept for now: %s; released in %s unless renewed", l.Namespace, name, why, at.Sub(now).Round(100*time.Millisecond)))
			continue
		case !stale:
			said = append(said, fmt.Sprintf("Lease %s/%s kept: %s", l.Namespace, name, why))
			continue
		case len(others) > 0:
			said = append(said, fmt.Sprintf("Lease %s/%s kept although %s: node %s is a control-plane node too, its replica may hold it", l.Namespace, name, why, others[0]))
			continue
		}
		err = cs.CoordinationV1().Leases(l.Namespace).Delete(ctx, name, metav1.DeleteOptions{
			Preconditions: &metav1.Preconditions{UID: &l.UID, ResourceVersion: &l.ResourceVersion},
		})
		switch {
		case apierrors.IsNotFound(err) || apierrors.IsConflict(err):
			said = append(said, fmt.Sprintf("Lease %s/%s changed meanwhile: kept", l.Namespace, name))
		case err != nil:
			return said, pending, fmt.Errorf("releasing lease %s/%s: %w", l.Namespace, name, err)
		default:
			said = append(said, fmt.Sprintf("Lease %s/%s released: %s and %s is the only control-plane node", l.Namespace, name, why, node))
		}
	}
	return said, pending, nil
}

// staleAt is when the lease's holder, unless it renews, has provably
// stopped leading: renewTime + the lease duration.
func staleAt(l *coordinationv1.Lease) time.Time {
	return l.Spec.RenewTime.Time.Add(time.Duration(ptr.Deref(l.Spec.LeaseDurationSeconds, 15)) * time.Second)
}

// releaseWhenStale waits until each pending lease is stale and deletes it
// if it is still the record that was read (UID and resourceVersion): a
// renewal meanwhile means its holder lives, and wins. A new replica waiting
// for the old record then takes the lease at its next retry (2 s) instead
// of a full lease duration after it first saw that record. Failures are
// said, not returned: the candidates take the lease by themselves anyway.
func releaseWhenStale(ctx context.Context, cs kubernetes.Interface, pending []pendingLease) []string {
	var said []string
	for _, pl := range pending {
		l := pl.lease
		t := time.NewTimer(time.Until(pl.at) + 100*time.Millisecond)
		select {
		case <-ctx.Done():
			t.Stop()
			return append(said, fmt.Sprintf("Lease %s/%s: not released (%v)", l.Namespace, l.Name, ctx.Err()))
		case <-t.C:
		}
		err := cs.CoordinationV1().Leases(l.Namespace).Delete(ctx, l.Name, metav1.DeleteOptions{
			Preconditions: &metav1.Preconditions{UID: &l.UID, ResourceVersion: &l.ResourceVersion},
		})
		switch {
		case apierrors.IsNotFound(err) || apierrors.IsConflict(err):
			said = append(said, fmt.Sprintf("Lease %s/%s renewed or taken meanwhile: kept", l.Namespace, l.Name))
		case err != nil:
			said = append(said, fmt.Sprintf("Lease %s/%s: not released (%v)", l.Namespace, l.Name, err))
		default:
			said = append(said, fmt.Sprintf("Lease %s/%s released: %s did not renew it within its duration", l.Namespace, l.Name, ptr.Deref(l.Spec.HolderIdentity, "")))
		}
	}
	return said
}

// leaseStale: the holder has not renewed for longer than the lease duration.
func leaseStale(l *coordinationv1.Lease, now time.Time) (bool, string) {
	holder := ptr.Deref(l.Spec.HolderIdentity, "")
	if holder == "" || l.Spec.RenewTime == nil {
		return false, "no holder"
	}
	dur := time.Duration(ptr.Deref(l.Spec.LeaseDurationSeconds, 15)) * time.Second
	age := now.Sub(l.Spec.RenewTime.Time)
	if age <= dur {
		return false, fmt.Sprintf("%s renewed it %s ago, within its %s duration", holder, age.Round(time.Second), dur)
	}
	return true, fmt.Sprintf("%s last renewed it %s ago (duration %s)", holder, age.Round(time.Second), dur)
}

// componentRunsHere is runsHere on this node: a component runs only while
// something listens on its secure port (the --secure-port of its
// Deployment in the state, else its default).
func componentRunsHere(cs kubernetes.Interface) runsHere {
	return func(ctx context.Context, name string) (bool, string) {
		port := defaultSecurePorts[name]
		if d, err := cs.AppsV1().Deployments(assets.KubeSystem).Get(ctx, name, metav1.GetOptions{}); err == nil {
			port = securePort(d, port)
		}
		listening, err := portcheck.Listening(port)
		switch {
		case err != nil:
			return true, err.Error()
		case listening:
			return true, fmt.Sprintf("port %d is listened on here", port)
		}
		return false, fmt.Sprintf("no %s runs on this node (nothing listens on its port %d, which it serves before it campaigns)", name, port)
	}
}

// defaultSecurePorts are the components' own defaults of --secure-port.
var defaultSecurePorts = map[string]int{assets.KubeControllerManager: 10257, assets.KubeScheduler: 10259}

// securePort is the --secure-port of the Deployment's first container, or
// def when it sets none.
func securePort(d *appsv1.Deployment, def int) int {
	if len(d.Spec.Template.Spec.Containers) == 0 {
		return def
	}
	c := d.Spec.Template.Spec.Containers[0]
	for _, a := range append(append([]string{}, c.Command...), c.Args...) {
		if v, ok := strings.CutPrefix(a, "--secure-port="); ok {
			if p, err := strconv.Atoi(v); err == nil && p > 0 {
				return p
			}
		}
	}
	return def
}

// otherControlPlaneNodes lists the nodes other than node that carry the
// control-plane label.
func otherControlPlaneNodes(ctx context.Context, cs kubernetes.Interface, node string) ([]string, error) {
	nodes, err := cs.CoreV1().Nodes().List(ctx, metav1.ListOptions{LabelSelector: assets.ControlPlaneNodeLabel})
	if err != nil {
		return nil, fmt.Errorf("listing control-plane nodes: %w", err)
	}
	var others []string
	for _, n := range nodes.Items {
		if n.Name != node {
			others = append(others, n.Name)
		}
	}
	return others, nil
}

// leasesReleased reports what the background release did; by now the wait
// phase has usually outlasted it.
func (f *flow) leasesReleased(context.Context) error {
	for _, s := range <-f.leaseRelease {
		f.p.Infof("leases", "%s", s)
	}
	f.leaseRelease = nil
	return nil
}

func (f *flow) skipLeasesReleased(context.Context) (string, error) {
	if f.leaseRelease == nil {
		return "no lease was waiting for release", nil
	}
	return "", nil
}
