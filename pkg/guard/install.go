package guard

import (
	"errors"
	"os"
	"path/filepath"

	"github.com/bootstrap-k8s/bootstrap/pkg/apis/bootstrap/v1alpha1"
	"github.com/bootstrap-k8s/bootstrap/pkg/assets"
)

// ManifestPath is where the kubelet reads the guard's static pod.
func ManifestPath(cfg *v1alpha1.BootstrapConfiguration) string {
	return filepath.Join(cfg.Node.StaticPodPath, assets.GuardStaticPodFile)
}

// Install writes the guard's static pod for the asset dir (an absolute
// path), as start does; used by `bootstrap pivot --to self-hosted`.
func Install(cfg *v1alpha1.BootstrapConfiguration, assetDir string) (string, error) {
	data, err := assets.EncodeYAML(assets.GuardStaticPod(cfg, assetDir))
	if err != nil {
		return "", err
	}
	path := ManifestPath(cfg)
	// The kubelet reads every file of the dir but hidden ones.
	tmp := filepath.Join(filepath.Dir(path), "."+assets.GuardStaticPodFile+".tmp")
	if err := os.WriteFile(tmp, data, 0o600); err != nil {
		return "", err
	}
	return path, os.Rename(tmp, path)
}

// Remove removes the guard's static pod (the kubelet stops it); a guard
// that is not installed is not an error. A static-pod control plane needs
// no guard: the kubelet restarts static pods by itself, and a guard would
// recover the self-hosted workloads `bootstrap pivot --to static-pods`
// removed.
func Remove(cfg *v1alpha1.BootstrapConfiguration) (bool, error) {
	err := os.Remove(ManifestPath(cfg))
	if errors.Is(err, os.ErrNotExist) {
		return false, nil
	}
	return err == nil, err
}
