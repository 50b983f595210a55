package pivot

import (
	"context"
	"fmt"
	"os"
	"path/filepath"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"sigs.k8s.io/yaml"

	"github.com/bootstrap-k8s/bootstrap/pkg/assets"
	"github.com/bootstrap-k8s/bootstrap/pkg/failure"
	"github.com/bootstrap-k8s/bootstrap/pkg/guard"
	"github.com/bootstrap-k8s/bootstrap/pkg/kubeapply"
)

// toSelfHosted creates each component's workload again, in order, waits
// until its pods serve, then removes its static pod; finally it installs
// the guard again.
func (f *flow) toSelfHosted(ctx context.Context, st *state) error {
	workloads := map[string]runtime.Object{}
	for _, c := range components {
		if st.workload(c) {
			continue
		}
		obj, from, err := f.workloadToCreate(c)
		if err != nil {
			return failure.Preflight(fmt.Errorf("%s: %w; nothing was changed", c, err))
		}
		workloads[c] = obj
		f.p.Detailf("pivot", "%s: the workload comes from %s", c, from)
	}
	for _, c := range components {
		if st.workload(c) && !st.manifests[c] {
			continue
		}
		if err := f.componentToSelfHosted(ctx, st, c, workloads[c]); err != nil {
			return fmt.Errorf("%s: %w (run the same pivot again to go on)", c, err)
		}
	}
	if !st.guard {
		f.step("Installing the guard static pod %s again: it brings the self-hosted control plane back after a reboot", guard.ManifestPath(f.cfg))
		if !f.o.DryRun {
			if _, err := guard.Install(f.cfg, f.o.AssetDir); err != nil {
				return err
			}
		}
	}
	if !f.o.DryRun {
		removeIfEmpty(filepath.Join(f.root, "self-hosted"))
	}
	return nil
}

// workloadToCreate is the workload saved by the pivot to static pods (the
// live one of that moment), else the asset dir's manifest; containers
// changed in the static pod since (an image, a flag) are carried over.
func (f *flow) workloadToCreate(c string) (runtime.Object, string, error) {
	kind := "Deployment"
	if c == assets.KubeAPIServer {
		kind = "DaemonSet"
	}
	var obj runtime.Object = &appsv1.Deployment{}
	if kind == "DaemonSet" {
		obj = &appsv1.DaemonSet{}
	}
	from := f.savedPath(c)
	data, err := os.ReadFile(from)
	switch {
	case err == nil:
		if err := yaml.UnmarshalStrict(data, obj); err != nil {
			return nil, "", fmt.Errorf("reading %s: %w", from, err)
		}
	case os.IsNotExist(err):
		from = assets.Path(f.o.AssetDir, assets.ManifestsDir)
		objs, err := kubeapply.ReadManifests(from)
		if err != nil {
			return nil, "", err
		}
		found := false
		for _, u := range objs {
			if u.GetKind() == kind && u.GetName() == c && u.GetNamespace() == assets.KubeSystem {
				if err := runtime.DefaultUnstructuredConverter.FromUnstructured(u.Object, obj); err != nil {
					return nil, "", fmt.Errorf("%s %s in %s: %w", kind, c, from, err)
				}
				found = true
			}
		}
		if !found {
			return nil, "", fmt.Errorf("no saved workload (%s) and no %s %s in %s: re-render the asset dir (bootstrap render --asset-dir %s)", f.savedPath(c), kind, c, from, f.o.AssetDir)
		}
	default:
		return nil, "", err
	}
	if pod, err := readStaticPod(f.manifestPath(c)); err == nil {
		var tmpl *corev1.PodSpec
		switch w := obj.(type) {
		case *appsv1.DaemonSet:
			tmpl = &w.Spec.Template.Spec
		case *appsv1.Deployment:
			tmpl = &w.Spec.Template.Spec
		}
		carryContainers(tmpl, &pod.Spec)
	}
	return obj, from, nil
}

func readStaticPod(path string) (*corev1.Pod, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	p := &corev1.Pod{}
	return p, yaml.Unmarshal(data, p)
}

// carryContainers copies what an operator changes in a static manifest
// (image, command, flags, environment) into the workload's containers of
// the same name. Volumes stay the workload's (Secrets, not host files).
func carryContainers(dst, src *corev1.PodSpec) {
	for i := range dst.Containers {
		for _, s := range src.Containers {
			if s.Name == dst.Containers[i].Name {
				d := &dst.Containers[i]
				d.Image, d.Command, d.Args, d.Env = s.Image, s.Command, s.Args, s.Env
			}
		}
	}
}

func (f *flow) componentToSelfHosted(ctx context.Context, st *state, c string, obj runtime.Object) error {
	manifest := f.manifestPath(c)
	if obj != nil {
		f.step("%s: creating %s/%s %s", c, kindOf(obj), assets.KubeSystem, c)
	}
	if st.manifests[c] {
		f.step("%s: removing the static pod %s once the workload's pods serve, then %s and %s", c, manifest, filepath.Join(f.root, "pki", c), filepath.Join(f.root, "config", c))
	}
	if f.o.DryRun {
		return nil
	}
	before := 0
	var err error
	if c == assets.KubeAPIServer {
		if before, err = f.apiListeners(); err != nil {
			return err
		}
		if before == 0 {
			return failure.Preflight(fmt.Errorf("nothing listens on port %d in this network namespace: run pivot on the control-plane node %s, as root", f.cfg.APIServer.BindPort, f.cfg.Node.Name))
		}
	}
	created := obj != nil // else a run killed after creating it: both may listen already
	if created {
		if err := f.create(ctx, obj); err != nil {
			return err
		}
	}
	if err := f.waitWorkloadReady(ctx, c); err != nil {
		return err
	}
	if _, err := removeFile(f.savedPath(c)); err != nil {
		return err
	}
	if !st.manifests[c] {
		return nil
	}
	now := before
	if c == assets.KubeAPIServer {
		if err := f.waitListeners(ctx, "the DaemonSet's kube-apiserver to listen beside the static one", func(n int) bool { return n > before || (!created && n >= 2) }); err != nil {
			return err
		}
		if err := f.waitServing(ctx, "both kube-apiservers to serve"); err != nil {
			return err
		}
		if now, err = f.apiListeners(); err != nil {
			return err
		}
	}
	if _, err := removeFile(manifest); err != nil {
		return err
	}
	if c == assets.KubeAPIServer {
		// The static kube-apiserver serves through its shutdown delay, then
		// closes its listener and drains (its mirror pod goes at the end of
		// its grace period, which need not be waited for): only then are
		// its files removed. It read them at start.
		if err := f.waitListeners(ctx, "the static kube-apiserver to leave the port", func(n int) bool { return n < now }); err != nil {
			return err
		}
	} else if err := f.waitMirrorGone(ctx, c); err != nil {
		return err
	}
	return removeComponentDirs(f.root, c)
}

func kindOf(obj runtime.Object) string {
	if _, ok := obj.(*appsv1.DaemonSet); ok {
		return "DaemonSet"
	}
	return "Deployment"
}

func (f *flow) create(ctx context.Context, obj runtime.Object) error {
	var err error
	switch w := obj.(type) {
	case *appsv1.DaemonSet:
		w.ResourceVersion, w.UID = "", ""
		_, err = f.cs.AppsV1().DaemonSets(assets.KubeSystem).Create(ctx, w, metav1.CreateOptions{FieldManager: assets.FieldManager})
	case *appsv1.Deployment:
		w.ResourceVersion, w.UID = "", ""
		_, err = f.cs.AppsV1().Deployments(assets.KubeSystem).Create(ctx, w, metav1.CreateOptions{FieldManager: assets.FieldManager})
	}
	if apierrors.IsAlreadyExists(err) {
		return nil
	}
	return err
}

// waitWorkloadReady waits until the workload's current pods are all Ready.
func (f *flow) waitWorkloadReady(ctx context.Context, c string) error {
	if c == assets.KubeAPIServer {
		return f.wait(ctx, "the kube-apiserver DaemonSet's pod to be Ready", func(ctx context.Context) (bool, string, error) {
			ds, err := f.cs.AppsV1().DaemonSets(assets.KubeSystem).Get(ctx, c, metav1.GetOptions{})
			if err != nil {
				return false, err.Error(), nil
			}
			s := ds.Status
			return s.ObservedGeneration >= ds.Generation && s.DesiredNumberScheduled > 0 && s.UpdatedNumberScheduled == s.DesiredNumberScheduled && s.NumberReady == s.DesiredNumberScheduled,
				fmt.Sprintf("%d/%d ready, %d updated", s.NumberReady, s.DesiredNumberScheduled, s.UpdatedNumberScheduled), nil
		})
	}
	return f.wait(ctx, "Deployment "+c+" to be ready", func(ctx context.Context) (bool, string, error) {
		d, err := f.cs.AppsV1().Deployments(assets.KubeSystem).Get(ctx, c, metav1.GetOptions{})
		if err != nil {
			return false, err.Error(), nil
		}
		want := int32(1)
		if d.Spec.Replicas != nil {
			want = *d.Spec.Replicas
		}
		s := d.Status
		return s.ObservedGeneration >= d.Generation && s.UpdatedReplicas == want && s.ReadyReplicas >= want,
			fmt.Sprintf("%d/%d ready, %d updated", s.ReadyReplicas, want, s.UpdatedReplicas), nil
	})
}
