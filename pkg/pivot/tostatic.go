package pivot

import (
	"context"
	"fmt"
	"path/filepath"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/utils/ptr"

	"github.com/bootstrap-k8s/bootstrap/pkg/assets"
	"github.com/bootstrap-k8s/bootstrap/pkg/failure"
	"github.com/bootstrap-k8s/bootstrap/pkg/guard"
)

// toStaticPods converts each component still run by its workload, in
// order: kube-apiserver (its static pod serves before the DaemonSet is
// deleted), then the controller-manager and the scheduler.
func (f *flow) toStaticPods(ctx context.Context, st *state) error {
	// Every static pod is derived before anything changes: a template a
	// static pod cannot have is refused with nothing changed.
	plans := map[string]*staticPlan{}
	objs := apiObjects{ctx: ctx, cs: f.cs}
	for _, c := range components {
		if !st.workload(c) {
			if !st.manifests[c] {
				return failure.Preflight(fmt.Errorf("%s runs neither as its workload nor as a static pod: bring the self-hosted control plane back first (bootstrap recover --asset-dir %s); nothing was changed", c, f.o.AssetDir))
			}
			continue
		}
		tmpl, sel, workload := f.template(st, c)
		plan, err := staticFromTemplate(c, workload, tmpl, sel, f.root, f.cfg.Node.StaticPodPath, objs)
		if err != nil {
			return failure.Preflight(fmt.Errorf("%w; nothing was changed", err))
		}
		plans[c] = plan
	}
	if st.guard {
		f.step("Removing the guard static pod %s: the kubelet restarts static pods by itself (pivot --to %s installs it again)", filepath.Join(f.cfg.Node.StaticPodPath, assets.GuardStaticPodFile), SelfHosted)
		if !f.o.DryRun {
			if _, err := guard.Remove(f.cfg); err != nil {
				return err
			}
		}
	}
	for _, c := range components {
		plan := plans[c]
		if plan == nil {
			continue
		}
		if err := f.componentToStatic(ctx, st, plan); err != nil {
			return fmt.Errorf("%s: %w (run the same pivot again to go on)", c, err)
		}
	}
	return nil
}

func (f *flow) template(st *state, c string) (corev1.PodTemplateSpec, *metav1.LabelSelector, string) {
	if c == assets.KubeAPIServer {
		return st.daemonSet.Spec.Template, st.daemonSet.Spec.Selector, "DaemonSet " + assets.KubeSystem + "/" + c
	}
	d := st.deployments[c]
	return d.Spec.Template, d.Spec.Selector, "Deployment " + assets.KubeSystem + "/" + c
}

func (f *flow) savedPath(c string) string { return filepath.Join(f.root, "self-hosted", c+".yaml") }

func (f *flow) componentToStatic(ctx context.Context, st *state, plan *staticPlan) error {
	c := plan.Component
	manifest, err := assets.EncodeYAML(plan.Pod)
	if err != nil {
		return err
	}
	saved, err := savedWorkload(st, c)
	if err != nil {
		return err
	}
	f.step("%s: saving %s to %s, writing %d file(s) under %s and %s, then the static pod %s", c, plan.Workload, f.savedPath(c), len(plan.Files),
		filepath.Join(f.root, "pki", c), filepath.Join(f.root, "config", c), plan.Manifest)
	if f.o.DryRun {
		f.step("%s: deleting %s once the static pod serves", c, plan.Workload)
		return nil
	}
	before := 0
	if c == assets.KubeAPIServer {
		if before, err = f.apiListeners(); err != nil {
			return err
		}
		if before == 0 {
			return failure.Preflight(fmt.Errorf("nothing listens on port %d in this network namespace: run pivot on the control-plane node %s, as root", f.cfg.APIServer.BindPort, f.cfg.Node.Name))
		}
	}
	if err := writeAtomic(f.savedPath(c), saved, 0o600, 0, 0); err != nil {
		return err
	}
	if err := plan.writeFiles(); err != nil {
		return err
	}
	if err := writeAtomic(plan.Manifest, manifest, 0o600, 0, 0); err != nil {
		return err
	}
	if err := f.waitMirrorReady(ctx, plan); err != nil {
		return err
	}
	if c == assets.KubeAPIServer {
		// The static kube-apiserver joins the port beside the DaemonSet's
		// pod (both SO_REUSEPORT): one more listener, then it must serve.
		// (A run killed after writing the manifest finds both listening.)
		resumed := st.manifests[c]
		if err := f.waitListeners(ctx, "the static kube-apiserver to listen beside the DaemonSet's", func(n int) bool { return n > before || (resumed && n >= 2) }); err != nil {
			return err
		}
		if err := f.waitServing(ctx, "both kube-apiservers to serve"); err != nil {
			return err
		}
		if before, err = f.apiListeners(); err != nil {
			return err
		}
	}
	f.step("%s: the static pod serves; deleting %s", c, plan.Workload)
	sel := st.selector(c)
	if err := f.deleteWorkload(ctx, c); err != nil {
		return err
	}
	if c == assets.KubeAPIServer {
		// The DaemonSet's pod closes its listener after its shutdown delay
		// and then drains; the static one serves the port alone from then
		// on. Its pod object goes at the end of its grace period, which
		// need not be waited for.
		return f.waitListeners(ctx, "the DaemonSet's kube-apiserver to leave the port", func(n int) bool { return n < before })
	}
	if err := f.waitPodsGone(ctx, "the pods of "+plan.Workload+" to stop", sel); err != nil {
		return err
	}
	return f.waitLeaseRenewedAfter(ctx, c, time.Now())
}

func (st *state) selector(c string) string {
	var sel *metav1.LabelSelector
	if c == assets.KubeAPIServer {
		sel = st.daemonSet.Spec.Selector
	} else {
		sel = st.deployments[c].Spec.Selector
	}
	s, _ := metav1.LabelSelectorAsSelector(sel)
	return s.String()
}

// deleteWorkload deletes the DaemonSet or Deployment; the garbage
// collector deletes its pods, each with its grace period (kube-apiserver
// keeps serving through its shutdown delay).
func (f *flow) deleteWorkload(ctx context.Context, c string) error {
	opts := metav1.DeleteOptions{PropagationPolicy: ptr.To(metav1.DeletePropagationBackground)}
	var err error
	if c == assets.KubeAPIServer {
		err = f.cs.AppsV1().DaemonSets(assets.KubeSystem).Delete(ctx, c, opts)
	} else {
		err = f.cs.AppsV1().Deployments(assets.KubeSystem).Delete(ctx, c, opts)
	}
	if apierrors.IsNotFound(err) {
		return nil
	}
	return err
}

// savedWorkload is the live workload as it can be created again: what was
// applied (metadata, spec), without status and server-set fields.
func savedWorkload(st *state, c string) ([]byte, error) {
	var obj runtime.Object
	clean := func(m metav1.ObjectMeta) metav1.ObjectMeta {
		ann := map[string]string{}
		for k, v := range m.Annotations {
			switch k {
			case "deprecated.daemonset.template.generation", "deployment.kubernetes.io/revision", corev1.LastAppliedConfigAnnotation:
				continue
			}
			ann[k] = v
		}
		if len(ann) == 0 {
			ann = nil
		}
		return metav1.ObjectMeta{Name: m.Name, Namespace: m.Namespace, Labels: m.Labels, Annotations: ann}
	}
	if c == assets.KubeAPIServer {
		ds := st.daemonSet
		obj = &appsv1.DaemonSet{TypeMeta: metav1.TypeMeta{APIVersion: "apps/v1", Kind: "DaemonSet"}, ObjectMeta: clean(ds.ObjectMeta), Spec: ds.Spec}
	} else {
		d := st.deployments[c]
		obj = &appsv1.Deployment{TypeMeta: metav1.TypeMeta{APIVersion: "apps/v1", Kind: "Deployment"}, ObjectMeta: clean(d.ObjectMeta), Spec: d.Spec}
	}
	return assets.EncodeYAML(obj)
}
