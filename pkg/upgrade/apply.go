package upgrade

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strings"
	"time"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/util/retry"
	"sigs.k8s.io/yaml"

	"github.com/bootstrap-k8s/bootstrap/pkg/assets"
	"github.com/bootstrap-k8s/bootstrap/pkg/failure"
	"github.com/bootstrap-k8s/bootstrap/pkg/kubeapply"
	"github.com/bootstrap-k8s/bootstrap/pkg/poddiag"
	"github.com/bootstrap-k8s/bootstrap/pkg/recovery"
	"github.com/bootstrap-k8s/bootstrap/pkg/versionskew"
)

// Result says what Apply did.
type Result struct {
	Plan *Plan
	// Backup is the snapshot taken before anything changed.
	Backup string
	// Rolled are the components rolled out, in order.
	Rolled []string
}

// Apply upgrades the cluster to the plan's target, component by component;
// see the package documentation. Running it again after a crash at any
// step converges: what is already on the target is left alone.
func Apply(ctx context.Context, o Options) (*Result, error) {
	o.complete()
	plan, err := MakePlan(ctx, o)
	if err != nil {
		return nil, err
	}
	res := &Result{Plan: plan}
	if len(plan.Refusals) > 0 {
		return res, failure.Preflight(fmt.Errorf("the upgrade to %s breaks the version-skew policy:\n  %s", plan.TargetVersion, strings.Join(plan.Refusals, "\n  ")))
	}
	if len(plan.Unhealthy) > 0 && !o.Force {
		return res, failure.Preflight(fmt.Errorf("the control plane is not healthy, an upgrade would hide why:\n  %s\nfix it first (bootstrap status shows the components), or pass --force",
			strings.Join(plan.Unhealthy, "\n  ")))
	}
	if o.DryRun {
		return res, printDryRun(o, plan)
	}
	if plan.Changes() == 0 {
		o.Logf("upgrade", "Nothing to roll: the cluster already runs %s as the asset dir describes it", plan.TargetVersion)
		_, err := assets.Render(plan.config, o.AssetDir, assets.Options{})
		return res, err
	}

	if err := os.MkdirAll(o.BackupDir, 0o700); err != nil {
		return res, err
	}
	b, err := recovery.Backup(ctx, recovery.BackupOptions{AssetDir: o.AssetDir, Output: o.BackupDir + "/", Now: o.Now})
	if err != nil {
		return res, fmt.Errorf("etcd snapshot before the upgrade (nothing was changed): %w", err)
	}
	res.Backup = b.Path
	o.Logf("backup", "Saved %s (%d keys, revision %d): bootstrap recover --etcd-backup %s restores this state", b.Path, b.Status.TotalKey, b.Status.Revision, b.Path)

	saved, err := saveRendered(o.AssetDir)
	if err != nil {
		return res, err
	}
	if _, err := assets.Render(plan.config, o.AssetDir, assets.Options{}); err != nil {
		return res, errors.Join(fmt.Errorf("re-rendering the asset dir for %s: %w", plan.TargetVersion, err), saved.restore())
	}
	o.Logf("render", "Rendered %s for %s (the previous files are restored if the upgrade rolls back)", o.AssetDir, plan.TargetVersion)

	rc, err := o.restConfig()
	if err != nil {
		return res, err
	}
	cs, err := kubernetes.NewForConfig(rc)
	if err != nil {
		return res, err
	}
	a, err := kubeapply.NewApplier(rc, func(string, ...any) {})
	if err != nil {
		return res, err
	}
	if err := a.ApplyInTiers(ctx, plan.objects, time.Minute); err != nil {
		return res, errors.Join(err, saved.restore())
	}
	if len(plan.objects) > 0 {
		o.Logf("apply", "Applied %d objects the workloads need: %s", len(plan.objects), strings.Join(plan.Objects, ", "))
	}
	g := &gate{cs: cs, rc: rc, port: plan.config.APIServer.BindPort, report: func(m string) { o.Logf("wait", "%s", m) }}
	if _, err := versionskew.Parse(plan.config.Images.KubeAPIServer); err == nil {
		g.version = plan.TargetVersion
	}
	for _, s := range plan.Steps {
		if !s.Change {
			continue
		}
		if err := rollStep(ctx, o, a, cs, g, s); err != nil {
			return res, errors.Join(err, saved.restore())
		}
		res.Rolled = append(res.Rolled, s.Name)
	}
	if plan.Etcd != nil && plan.Etcd.Change {
		if err := upgradeEtcd(ctx, o, plan); err != nil {
			return res, errors.Join(err, saved.restore())
		}
		res.Rolled = append(res.Rolled, "etcd")
	}
	return res, nil
}

// rollStep applies one workload and waits for it to serve; if it does not
// within the deadline, its previous spec is put back and awaited, and the
// error names the pods that failed and why.
func rollStep(ctx context.Context, o Options, a *kubeapply.Applier, cs kubernetes.Interface, g *gate, s Step) error {
	begin := time.Now()
	previous, err := a.Get(ctx, s.obj)
	if err != nil && !isNotFound(err) {
		return err
	}
	var rev *daemonSetRevision
	if s.Kind == "DaemonSet" && previous != nil {
		if rev, err = currentRevision(ctx, cs, s.Name); err != nil {
			return fmt.Errorf("reading DaemonSet %s's current revision (nothing was changed): %w", s.Name, err)
		}
	}
	o.Logf("upgrade", "Rolling %s %s to %s", strings.ToLower(s.Kind), s.Name, s.To)
	if err := a.Apply(ctx, s.obj); err != nil {
		return fmt.Errorf("applying %s %s: %w", s.Kind, s.Name, err)
	}
	werr := g.wait(ctx, s, o.ComponentTimeout)
	if werr == nil {
		o.Logf("upgrade", "%s serves on %s after %s", s.Name, s.To, time.Since(begin).Round(100*time.Millisecond))
		return nil
	}
	diag := poddiag.NotReady(context.WithoutCancel(ctx), cs, assets.KubeSystem)
	if previous == nil {
		return fmt.Errorf("%s %s did not serve within %s: %w\n%s", s.Kind, s.Name, o.ComponentTimeout, werr, diag)
	}
	rbTimeout := rollBackTimeout(o.ComponentTimeout, previous)
	o.Logf("rollback", "%s did not serve on %s within %s; rolling it back to %s (waiting up to %s)", s.Name, s.To, o.ComponentTimeout, s.From, rbTimeout)
	rctx := context.WithoutCancel(ctx)
	if n, err := claimPodsForRollBack(rctx, cs, rev); err != nil {
		o.Logf("rollback", "%v (the controller may replace those pods)", err)
	} else if n > 0 {
		o.Logf("rollback", "Labelled %d pod(s) that run %s with the revision hash %s, so the roll-back keeps them", n, s.From, rev.hash)
	}
	rberr := rollBack(rctx, a, previous)
	if rberr == nil {
		rberr = g.waitRolledBack(rctx, s, rbTimeout)
	}
	if rberr != nil {
		return fmt.Errorf("%s %s did not serve on %s: %w\n%s\nAND ITS ROLL-BACK FAILED: %v\nthe etcd snapshot taken first restores the cluster as it was: bootstrap recover --etcd-backup",
			s.Kind, s.Name, s.To, werr, diag, rberr)
	}
	o.Logf("rollback", "%s is back on %s and serves", s.Name, s.From)
	return fmt.Errorf("%s %s did not serve on %s within %s, so it was rolled back to %s, which serves; the asset dir is restored.\n%v\n%s",
		s.Kind, s.Name, s.To, o.ComponentTimeout, s.From, werr, diag)
}

// rollBackTimeout is the roll-back's deadline: the component's timeout plus
// the grace period of the pods it replaces. A roll-back may have to replace
// a pod that still serves (a DaemonSet pod whose revision hash its
// controller does not recognise, e.g. one placed by start on the previous
// minor), and the controller counts the roll-back done only when that pod
// is gone: kube-apiserver uses its whole grace period to drain (60 s
// measured), which alone nearly filled a 75 s --component-timeout.
func rollBackTimeout(timeout time.Duration, previous *unstructured.Unstructured) time.Duration {
	grace, found, err := unstructured.NestedInt64(previous.Object, "spec", "template", "spec", "terminationGracePeriodSeconds")
	if err != nil || !found {
		grace = 30 // the API's default
	}
	return timeout + time.Duration(grace)*time.Second
}

// rollBack puts the previous spec back (as kubectl rollout undo puts the
// previous template back); the controller then removes the new pods.
func rollBack(ctx context.Context, a *kubeapply.Applier, previous *unstructured.Unstructured) error {
	spec, ok := previous.Object["spec"]
	if !ok {
		return fmt.Errorf("%s %s has no spec to roll back to", previous.GetKind(), previous.GetName())
	}
	return retry.RetryOnConflict(retry.DefaultRetry, func() error {
		cur, err := a.Get(ctx, previous)
		if err != nil {
			return err
		}
		cur.Object["spec"] = spec
		return a.Update(ctx, cur)
	})
}

// waitRolledBack waits for the rolled-back workload as for a roll-out,
// without the version check: it serves the version it served before.
func (g *gate) waitRolledBack(ctx context.Context, s Step, timeout time.Duration) error {
	back := *g
	back.version = ""
	return back.wait(ctx, s, timeout)
}

func printDryRun(o Options, plan *Plan) error {
	objs := append([]*unstructured.Unstructured{}, plan.objects...)
	for _, s := range plan.Steps {
		if s.Change {
			objs = append(objs, s.obj)
		}
	}
	for _, obj := range objs {
		data, err := yaml.Marshal(obj.Object)
		if err != nil {
			return err
		}
		fmt.Fprintf(o.Out, "---\n%s", data)
	}
	o.Logf("dry-run", "%d objects would be applied, in this order; nothing was changed", len(objs))
	return nil
}
