package etcdmembers

import (
	"context"
	"sort"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"

	"github.com/bootstrap-k8s/bootstrap/pkg/apis/bootstrap/v1alpha1"
	"github.com/bootstrap-k8s/bootstrap/pkg/assets"
)

// ControlPlaneEndpoints are the client URLs of the control-plane nodes' members
// (the nodes labelled control plane, by InternalIP) and of the first node's,
// without the one at the address self.
func ControlPlaneEndpoints(ctx context.Context, cs kubernetes.Interface, cfg *v1alpha1.BootstrapConfiguration, self string) []string {
	seen := map[string]bool{assets.EtcdClientURL(cfg, self): true}
	var out []string
	add := func(u string) {
		if !seen[u] {
			seen[u] = true
			out = append(out, u)
		}
	}
	if nodes, err := cs.CoreV1().Nodes().List(ctx, metav1.ListOptions{LabelSelector: assets.ControlPlaneNodeLabel}); err == nil {
		for _, n := range nodes.Items {
			for _, a := range n.Status.Addresses {
				if a.Type == corev1.NodeInternalIP {
					add(assets.EtcdClientURL(cfg, a.Address))
				}
			}
		}
	}
	add(assets.EtcdClientURL(cfg, cfg.APIServer.AdvertiseAddress))
	sort.Strings(out)
	return out
}
