package start

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"

	corev1 "k8s.io/api/core/v1"
	"sigs.k8s.io/yaml"

	"github.com/bootstrap-k8s/bootstrap/pkg/apis/bootstrap/v1alpha1"
	"github.com/bootstrap-k8s/bootstrap/pkg/assets"
)

// checkNotPivoted refuses a node whose control plane `bootstrap pivot
// --to static-pods` turned into static pods: start (and recover, and the
// guard) would create the self-hosted workloads again beside them — two
// kube-apiservers on one port, two controller-managers' manifests. The
// way back is the pivot's own.
func checkNotPivoted(cfg *v1alpha1.BootstrapConfiguration, assetDir string) error {
	path := filepath.Join(cfg.Node.StaticPodPath, assets.KubeAPIServer+".yaml")
	data, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("reading %s: %w", path, err)
	}
	var pod corev1.Pod
	if err := yaml.Unmarshal(data, &pod); err != nil {
		return fmt.Errorf("%s is not a pod manifest (%v): move it away if it is not yours", path, err)
	}
	if _, ok := pod.Labels[assets.StaticPodLabel]; !ok {
		return nil
	}
	return fmt.Errorf("node %s runs its control plane as static pods (%s, written by `bootstrap pivot --to static-pods`): start and recover would create the self-hosted control plane beside it. Go back first with `bootstrap pivot --to self-hosted --asset-dir %s`", cfg.Node.Name, path, assetDir)
}
