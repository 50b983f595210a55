package upgrade

import (
	"context"
	"fmt"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/version"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"

	"github.com/bootstrap-k8s/bootstrap/pkg/assets"
	"github.com/bootstrap-k8s/bootstrap/pkg/endpoints"
	"github.com/bootstrap-k8s/bootstrap/pkg/kubeprobe"
	"github.com/bootstrap-k8s/bootstrap/pkg/poddiag"
	"github.com/bootstrap-k8s/bootstrap/pkg/waitfor"
)

// gate waits until a rolled workload serves: its roll-out complete (every
// pod on the new template and available, no old pod left) and then what
// "serving" means for it: kube-apiserver answers /readyz on every node and
// /version with the target; controller-manager and scheduler renew their
// leases after the roll-out.
type gate struct {
	cs      kubernetes.Interface
	rc      *rest.Config
	port    int32
	version string // the target's served version ("" when the image is not a version tag)
	report  func(string)
}

func (g *gate) wait(ctx context.Context, s Step, timeout time.Duration) error {
	begin := time.Now()
	o := waitfor.Options{What: fmt.Sprintf("%s %s to roll out", s.Kind, s.Name), Timeout: timeout, Interval: time.Second, Report: g.report, CallTimeout: 20 * time.Second}
	if _, err := waitfor.Until(ctx, o, func(ctx context.Context) (bool, string, error) { return rolledOut(ctx, g.cs, s.Kind, s.Name) }); err != nil {
		return err
	}
	left := timeout - time.Since(begin)
	switch s.Name {
	case assets.KubeAPIServer:
		o.What = "kube-apiserver to serve on every node"
		o.Timeout = left
		_, err := waitfor.Until(ctx, o, g.apiserversServe)
		return err
	case assets.KubeControllerManager, assets.KubeScheduler:
		rolled := time.Now()
		o.What = s.Name + " to renew its lease after the roll-out"
		o.Timeout = left
		_, err := waitfor.Until(ctx, o, func(ctx context.Context) (bool, string, error) {
			l, err := g.cs.CoordinationV1().Leases(assets.KubeSystem).Get(ctx, s.Name, metav1.GetOptions{})
			if err != nil {
				return false, "", err
			}
			if l.Spec.RenewTime == nil || l.Spec.HolderIdentity == nil {
				return false, "lease not held", nil
			}
			return l.Spec.RenewTime.After(rolled), fmt.Sprintf("held by %s, renewed %s", *l.Spec.HolderIdentity, l.Spec.RenewTime.Format(time.RFC3339)), nil
		})
		return err
	}
	return nil
}

// rolledOut: the controller saw the new template, every pod runs it and is
// available, and no pod of an older template is left.
func rolledOut(ctx context.Context, cs kubernetes.Interface, kind, name string) (bool, string, error) {
	switch kind {
	case "DaemonSet":
		d, err := cs.AppsV1().DaemonSets(assets.KubeSystem).Get(ctx, name, metav1.GetOptions{})
		if err != nil {
			return false, "", err
		}
		st := d.Status
		return st.ObservedGeneration >= d.Generation && st.UpdatedNumberScheduled == st.DesiredNumberScheduled &&
				st.NumberAvailable == st.DesiredNumberScheduled && st.CurrentNumberScheduled == st.DesiredNumberScheduled && st.NumberUnavailable == 0,
			fmt.Sprintf("%d of %d updated, %d available", st.UpdatedNumberScheduled, st.DesiredNumberScheduled, st.NumberAvailable), nil
	case "Deployment":
		d, err := cs.AppsV1().Deployments(assets.KubeSystem).Get(ctx, name, metav1.GetOptions{})
		if err != nil {
			return false, "", err
		}
		want := int32(1)
		if d.Spec.Replicas != nil {
			want = *d.Spec.Replicas
		}
		st := d.Status
		return st.ObservedGeneration >= d.Generation && st.UpdatedReplicas == want && st.AvailableReplicas == want && st.Replicas == want,
			fmt.Sprintf("%d of %d updated, %d available, %d in total", st.UpdatedReplicas, want, st.AvailableReplicas, st.Replicas), nil
	}
	return true, "", nil
}

// apiserversServe: every kube-apiserver pod's node answers /readyz on the
// API port (through a connection of its own), and /version is the target.
func (g *gate) apiserversServe(ctx context.Context) (bool, string, error) {
	pods, err := g.cs.CoreV1().Pods(assets.KubeSystem).List(ctx, metav1.ListOptions{LabelSelector: assets.ComponentLabel + "=" + assets.KubeAPIServer})
	if err != nil {
		return false, "", err
	}
	for i := range pods.Items {
		p := &pods.Items[i]
		if p.DeletionTimestamp != nil {
			continue
		}
		if !poddiag.Ready(p) || p.Status.HostIP == "" {
			return false, fmt.Sprintf("pod %s not Ready", p.Name), nil
		}
		cfg := rest.CopyConfig(g.rc)
		cfg.Host = endpoints.HTTPS(p.Status.HostIP, g.port)
		c, err := kubeprobe.Fresh(cfg)
		if err != nil {
			return false, "", err
		}
		v := ""
		err = c.Ready(ctx)
		if err == nil {
			var info *version.Info
			if info, err = c.Version(); err == nil {
				v = info.GitVersion
			}
		}
		c.Close()
		if err != nil {
			return false, fmt.Sprintf("%s (pod %s): %v", cfg.Host, p.Name, err), nil
		}
		if g.version != "" && v != g.version {
			return false, fmt.Sprintf("%s serves %s, want %s", cfg.Host, v, g.version), nil
		}
	}
	return true, "", nil
}
