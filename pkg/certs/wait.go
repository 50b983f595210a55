package certs

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"

	"github.com/bootstrap-k8s/bootstrap/pkg/apis/bootstrap/v1alpha1"
	"github.com/bootstrap-k8s/bootstrap/pkg/assets"
	"github.com/bootstrap-k8s/bootstrap/pkg/waitfor"
)

// waitRolledOut waits until the controller has observed the workload's
// new template and every replica (every node's pod) is up to date and
// available: the roll is over, the old pods are on their way out.
func waitRolledOut(ctx context.Context, cs kubernetes.Interface, kind, name string, timeout time.Duration, report func(string)) error {
	_, err := waitfor.Until(ctx, waitfor.Options{What: kind + " " + assets.KubeSystem + "/" + name + " to roll out", Timeout: timeout,
		Interval: time.Second, Report: report, CallTimeout: 10 * time.Second},
		func(ctx context.Context) (bool, string, error) {
			if kind == daemonSet {
				ds, err := cs.AppsV1().DaemonSets(assets.KubeSystem).Get(ctx, name, metav1.GetOptions{})
				if err != nil {
					return false, "", err
				}
				return daemonSetRolledOut(ds)
			}
			d, err := cs.AppsV1().Deployments(assets.KubeSystem).Get(ctx, name, metav1.GetOptions{})
			if err != nil {
				return false, "", err
			}
			return deploymentRolledOut(d)
		})
	return err
}

func daemonSetRolledOut(ds *appsv1.DaemonSet) (bool, string, error) {
	s := ds.Status
	state := fmt.Sprintf("%d desired, %d up to date, %d available (generation %d, observed %d)",
		s.DesiredNumberScheduled, s.UpdatedNumberScheduled, s.NumberAvailable, ds.Generation, s.ObservedGeneration)
	return s.ObservedGeneration >= ds.Generation && s.DesiredNumberScheduled > 0 &&
		s.UpdatedNumberScheduled >= s.DesiredNumberScheduled && s.NumberAvailable >= s.DesiredNumberScheduled, state, nil
}

func deploymentRolledOut(d *appsv1.Deployment) (bool, string, error) {
	want := int32(1)
	if d.Spec.Replicas != nil {
		want = *d.Spec.Replicas
	}
	s := d.Status
	state := fmt.Sprintf("%d/%d updated, %d available, %d in all (generation %d, observed %d)",
		s.UpdatedReplicas, want, s.AvailableReplicas, s.Replicas, d.Generation, s.ObservedGeneration)
	return s.ObservedGeneration >= d.Generation && s.UpdatedReplicas >= want && s.AvailableReplicas >= want && s.Replicas == s.UpdatedReplicas, state, nil
}

// installEtcdFiles copies the renewed etcd leaves (certificate and key)
// into etcd.local.certDir, each through a temporary file and a rename, the
// key first: etcd reads the pair on its next TLS handshake.
func installEtcdFiles(assetDir string, cfg *v1alpha1.BootstrapConfiguration, todo []leaf) error {
	dir := cfg.Etcd.Local.CertDir
	for _, l := range todo {
		if !l.etcd() {
			continue
		}
		for _, f := range []struct {
			ext  string
			mode os.FileMode
		}{{".key", 0o600}, {".crt", 0o644}} {
			data, err := os.ReadFile(assets.Path(assetDir, l.Asset+f.ext))
			if err != nil {
				return err
			}
			dst := filepath.Join(dir, filepath.Base(l.Asset)+f.ext)
			tmp := filepath.Join(dir, "."+filepath.Base(dst)+".renew")
			if err := os.WriteFile(tmp, data, f.mode); err != nil {
				return err
			}
			if err := os.Chmod(tmp, f.mode); err != nil {
				return err
			}
			if err := os.Rename(tmp, dst); err != nil {
				return err
			}
		}
	}
	return nil
}
