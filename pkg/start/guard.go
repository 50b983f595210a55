package start

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"

	"github.com/bootstrap-k8s/bootstrap/pkg/assetlock"
	"github.com/bootstrap-k8s/bootstrap/pkg/assets"
)

// installGuard writes the guard's static pod (assets.GuardStaticPod) into
// the kubelet's static pod dir: from now on the node brings its control
// plane back by itself after a power cut.
func (f *flow) installGuard(context.Context) error {
	data, err := assets.EncodeYAML(assets.GuardStaticPod(f.cfg, f.o.AssetDir))
	if err != nil {
		return err
	}
	path := filepath.Join(f.cfg.Node.StaticPodPath, assets.GuardStaticPodFile)
	if err := writeAtomic(path, data, 0o600); err != nil {
		return err
	}
	f.p.Infof("guard", "Installed %s: the kubelet runs `bootstrap guard`, which brings this node's control plane back after a reboot (image %s)", path, f.cfg.Images.Bootstrap)
	return nil
}

func (f *flow) skipGuard(context.Context) (string, error) {
	if !f.o.InstallGuard {
		path := filepath.Join(f.cfg.Node.StaticPodPath, assets.GuardStaticPodFile)
		if fileExists(path) {
			return "not asked for (--install-guard=false); the one installed earlier stays: remove " + path + " to turn it off", nil
		}
		return "not asked for (--install-guard=false): after a reboot, run `bootstrap recover --asset-dir " + f.o.AssetDir + "`", nil
	}
	return "", nil
}

// ErrBusy: another bootstrap command works on the asset dir right now.
var ErrBusy = assetlock.ErrBusy

// lockAssetDir takes the node-wide lock of the asset dir (pkg/assetlock),
// so that a start, a recover and the guard never run their flows at once.
func lockAssetDir(dir string) (release func(), err error) {
	release, err = assetlock.Lock(dir)
	if errors.Is(err, assetlock.ErrBusy) {
		return nil, fmt.Errorf("%w; the guard static pod (%s) recovers the node by itself after a reboot", err, assets.GuardPodName)
	}
	return release, err
}
