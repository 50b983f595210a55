package start

import (
	"context"
	"fmt"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/utils/ptr"

	"github.com/bootstrap-k8s/bootstrap/pkg/assets"
	"github.com/bootstrap-k8s/bootstrap/pkg/kubeprobe"
	"github.com/bootstrap-k8s/bootstrap/pkg/poddiag"
	"github.com/bootstrap-k8s/bootstrap/pkg/tempcontrolplane"
)

// detectState finds out what an earlier run left. Nothing serving: a fresh
// start. The temporary apiserver answering: another start is running. This
// cluster's kube-apiserver serving: resume after the hand-over, or, when the
// control plane is complete, say so and exit 0 without touching anything.
func (f *flow) detectState(ctx context.Context) (done bool, err error) {
	c, err := kubeprobe.Fresh(f.admin)
	if err != nil {
		return false, err
	}
	defer c.Close()
	info, err := c.Version()
	if err != nil {
		return false, nil // nothing serving: bootstrap
	}
	if tempcontrolplane.IsTemporary(info) {
		return false, fmt.Errorf("a temporary bootstrap apiserver already answers on %s: another `bootstrap start` or `recover` is running on this node; wait for it or stop it", f.admin.Host)
	}
	if f.o.Mode == Restore {
		return false, fmt.Errorf("a kube-apiserver %s serves on %s: recover would roll the cluster back to the saved state under it. If that is what you want, stop the control plane first (stop the kubelet, remove the etcd static pod and the control-plane containers); otherwise there is nothing to recover", info.GitVersion, f.admin.Host)
	}
	// The serving certificate verified against this asset dir's CA: this is
	// this cluster's kube-apiserver. If it cannot read its own objects, etcd
	// has no quorum (a run killed before the boot member left): resume, and
	// the boot member is started again.
	rctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	ds, err := f.adminCS.AppsV1().DaemonSets(assets.KubeSystem).Get(rctx, assets.KubeAPIServer, metav1.GetOptions{})
	if err != nil {
		f.resumed = true
		f.p.Infof("start", "This cluster's kube-apiserver %s answers on %s but cannot read its state (%v): continuing, with the boot etcd member if it is still needed", info.GitVersion, f.admin.Host, err)
		return false, nil
	}
	f.resumed = true
	if complete, _ := f.complete(ctx); complete {
		f.p.Infof("start", "Node %s already runs the self-hosted control plane of this cluster (kube-apiserver %s on %s, %d/%d apiserver pods available); nothing to do",
			f.cfg.Node.Name, info.GitVersion, f.admin.Host, ds.Status.NumberAvailable, ds.Status.DesiredNumberScheduled)
		return true, nil
	}
	f.p.Infof("start", "This cluster's kube-apiserver %s already serves on %s: continuing after the hand-over", info.GitVersion, f.admin.Host)
	return false, nil
}

// complete reports whether every control-plane workload is available. The
// controller-manager and scheduler are also judged by their pods and their
// leases: their Deployments' statuses are written by the controller-manager
// itself, so when every replica is gone they still say "available" (all
// control-plane pods deleted at once: nothing would ever re-create them).
// With a controller-manager holding a fresh lease the DaemonSets' statuses
// are kept current.
func (f *flow) complete(ctx context.Context) (bool, string) {
	now := time.Now()
	for _, name := range []string{assets.KubeControllerManager, assets.KubeScheduler} {
		d, err := f.adminCS.AppsV1().Deployments(assets.KubeSystem).Get(ctx, name, metav1.GetOptions{})
		if err != nil {
			return false, err.Error()
		}
		if ok, state := deploymentReady(ctx, f.adminCS, d); !ok {
			return false, name + ": " + state
		}
		l, err := f.adminCS.CoordinationV1().Leases(assets.KubeSystem).Get(ctx, name, metav1.GetOptions{})
		if err != nil {
			return false, name + " lease: " + err.Error()
		}
		if stale, state := leaseStale(l, now); stale || ptr.Deref(l.Spec.HolderIdentity, "") == "" {
			return false, name + " lease: " + state
		}
	}
	for _, name := range []string{assets.KubeAPIServer, assets.KubeProxy} {
		ds, err := f.adminCS.AppsV1().DaemonSets(assets.KubeSystem).Get(ctx, name, metav1.GetOptions{})
		if err != nil {
			return false, err.Error()
		}
		if s := ds.Status; s.DesiredNumberScheduled == 0 || s.NumberAvailable < s.DesiredNumberScheduled {
			return false, name + " not available"
		}
	}
	return true, ""
}

// waitCoreDNS waits for cluster DNS, but only warns when its image is not on
// the node: the control plane is up without it, and DNS follows once the
// image is there.
func (f *flow) waitCoreDNS(ctx context.Context) error {
	ns := assets.KubeSystem
	imageMissing := ""
	err := waitFor(ctx, "Deployment "+ns+"/"+assets.CoreDNS, f.remaining(), f.report, func(ctx context.Context) (bool, string) {
		d, err := f.adminCS.AppsV1().Deployments(ns).Get(ctx, assets.CoreDNS, metav1.GetOptions{})
		if err != nil {
			return false, err.Error()
		}
		if ok, state := deploymentReady(ctx, f.adminCS, d); ok {
			return true, state
		}
		pods, err := f.adminCS.CoreV1().Pods(ns).List(ctx, metav1.ListOptions{LabelSelector: labels.SelectorFromSet(d.Spec.Selector.MatchLabels).String()})
		if err == nil {
			for _, p := range pods.Items {
				for _, cs := range p.Status.ContainerStatuses {
					if w := cs.State.Waiting; w != nil && (w.Reason == "ErrImagePull" || w.Reason == "ImagePullBackOff" || w.Reason == "ErrImageNeverPull") {
						imageMissing = cs.Image
						return true, "image missing"
					}
				}
			}
		}
		_, state := deploymentAvailable(d)
		return false, state
	})
	if imageMissing != "" {
		f.p.Infof("wait", "WARNING: CoreDNS cannot start: image %s is not on the node and cannot be pulled. The control plane is up; cluster DNS follows once the image is imported.", imageMissing)
		return nil
	}
	return err
}

func (f *flow) diagnose() string {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	return poddiag.NotReady(ctx, f.cs(), assets.KubeSystem)
}

// addonsNote says what start did not wait for (--wait=control-plane).
func (f *flow) addonsNote() string {
	if f.o.Wait == WaitAll {
		return ""
	}
	return "\nkube-proxy, CoreDNS and the second controller-manager and scheduler replicas are\nstarting (start --wait=all waits for them too)."
}

func (f *flow) nextSteps() {
	dir := f.o.AssetDir
	if f.o.Mode.recovering() {
		what := "etcd kept running and was not changed: nothing committed to it is lost."
		if f.o.Mode == Restore {
			what = "The cluster is back at the saved state: changes made after it was saved are lost;\nre-apply them (objects deleted after it are back: delete them again)."
		}
		f.p.Linef(`
The control plane is recovered. %[3]s%[4]s

  export KUBECONFIG=%[1]s/%[2]s
  kubectl get nodes
  kubectl get pods -A    # controllers re-create the pods of lost nodes

Take a fresh backup now: bootstrap backup --asset-dir %[1]s --output FILE.`, dir, assets.AdminKubeconfig, what, f.addonsNote())
		return
	}
	f.p.Linef(`
Your self-hosted Kubernetes control plane is up.%[7]s

  export KUBECONFIG=%[1]s/%[2]s
  kubectl get nodes
  kubectl -n kube-system get pods

The admin kubeconfig is %[1]s/%[2]s (group %[3]s, revocable);
%[1]s/%[4]s is system:masters: keep it offline for emergencies.

Join more nodes: start their kubelet with --bootstrap-kubeconfig=%[1]s/%[5]s
(the token is valid for 24 h after render). Upgrade later with
  kubectl apply -f %[1]s/%[6]s/
Take etcd backups with bootstrap backup --asset-dir %[1]s --output FILE.`,
		dir, assets.AdminKubeconfig, assets.AdminGroup, assets.SuperAdminKubeconfig, assets.BootstrapKubeletKubeconfig, assets.ManifestsDir, f.addonsNote())
}
