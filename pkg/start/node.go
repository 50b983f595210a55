package start

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	corev1ac "k8s.io/client-go/applyconfigurations/core/v1"
	"k8s.io/client-go/kubernetes"

	"github.com/bootstrap-k8s/bootstrap/pkg/apis/bootstrap/v1alpha1"
	"github.com/bootstrap-k8s/bootstrap/pkg/assets"
)

// etcdNodeFiles are the certificates the etcd static pod mounts from
// etcd.local.certDir. The etcd CA key stays in the asset dir.
var etcdNodeFiles = []string{
	assets.EtcdCACert, assets.EtcdServerCert, assets.EtcdServerKey, assets.EtcdPeerCert, assets.EtcdPeerKey,
	assets.EtcdHealthcheckCert, assets.EtcdHealthcheckKey,
}

// installEtcdFiles copies the member's certificates to certDir and the
// static pod manifest to the kubelet's static pod dir, atomically, so that
// the kubelet never reads half a manifest.
func installEtcdFiles(assetDir string, cfg *v1alpha1.BootstrapConfiguration) error {
	certDir := cfg.Etcd.Local.CertDir
	if err := os.MkdirAll(certDir, 0o700); err != nil {
		return err
	}
	for _, rel := range etcdNodeFiles {
		data, err := os.ReadFile(assets.Path(assetDir, rel))
		if err != nil {
			return err
		}
		mode := os.FileMode(0o644)
		if filepath.Ext(rel) == ".key" {
			mode = 0o600
		}
		if err := writeAtomic(filepath.Join(certDir, filepath.Base(rel)), data, mode); err != nil {
			return err
		}
	}
	manifest, err := os.ReadFile(assets.Path(assetDir, assets.EtcdStaticPod))
	if err != nil {
		return err
	}
	if err := os.MkdirAll(cfg.Node.StaticPodPath, 0o755); err != nil {
		return err
	}
	return writeAtomic(filepath.Join(cfg.Node.StaticPodPath, "etcd.yaml"), manifest, 0o600)
}

// writeAtomic writes through a temporary file outside the kubelet's view
// (a dot file, which the kubelet ignores) and renames it into place.
func writeAtomic(path string, data []byte, mode os.FileMode) error {
	if old, err := os.ReadFile(path); err == nil && string(old) == string(data) {
		return os.Chmod(path, mode)
	}
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".tmp-*")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name())
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Chmod(mode); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), path)
}

// labelControlPlane marks node as a control-plane node, which the
// control-plane workloads select. A kubelet may not set this label itself.
func labelControlPlane(ctx context.Context, cs kubernetes.Interface, node string) error {
	// A strategic merge patch of the one label, built from a typed apply
	// configuration (which holds only the fields set): the kubelet's fields
	// stay, and a missing node is an error, where an apply would create one.
	patch, err := json.Marshal(corev1ac.Node(node).WithLabels(map[string]string{assets.ControlPlaneNodeLabel: ""}))
	if err != nil {
		return err
	}
	_, err = cs.CoreV1().Nodes().Patch(ctx, node, types.StrategicMergePatchType, patch, metav1.PatchOptions{FieldManager: assets.FieldManager})
	if err != nil {
		return fmt.Errorf("labelling node %s %s: %w", node, assets.ControlPlaneNodeLabel, err)
	}
	return nil
}
