package start

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/bootstrap-k8s/bootstrap/pkg/apis/bootstrap/v1alpha1"
	"github.com/bootstrap-k8s/bootstrap/pkg/assets"
	"github.com/bootstrap-k8s/bootstrap/pkg/failure"
	"github.com/bootstrap-k8s/bootstrap/pkg/kubeprobe"
	"github.com/bootstrap-k8s/bootstrap/pkg/portcheck"
	"github.com/bootstrap-k8s/bootstrap/pkg/ui"
)

// Check is one preflight check. A warning is printed and never fails.
type Check struct {
	Name string
	Warn bool
	Run  func(ctx context.Context) error
}

// runPreflight runs every check, prints each problem, and fails with exit
// code 2 unless every error is ignored by name (or "all").
func runPreflight(ctx context.Context, p *ui.Printer, checks []Check, ignore []string) error {
	var failed []string
	for _, c := range checks {
		err := c.Run(ctx)
		switch {
		case err == nil:
			p.Detailf("preflight", "%s: ok", c.Name)
		case c.Warn:
			p.Infof("preflight", "WARNING %s: %v", c.Name, err)
		case ignores(ignore, c.Name):
			p.Infof("preflight", "IGNORED %s: %v", c.Name, err)
		default:
			p.Infof("preflight", "ERROR %s: %v", c.Name, err)
			failed = append(failed, c.Name)
		}
	}
	if len(failed) > 0 {
		return failure.Preflight(fmt.Errorf("preflight found %d problem(s) (%s); fix them, or skip a check with --ignore-preflight-errors=%s (nothing was changed)",
			len(failed), strings.Join(failed, ", "), strings.Join(failed, ",")))
	}
	return nil
}

// preflightChecks are the checks of `bootstrap start`.
func preflightChecks(assetDir string, cfg *v1alpha1.BootstrapConfiguration) []Check {
	l := cfg.Etcd.Local
	adv := cfg.APIServer.AdvertiseAddress
	staticEtcd := filepath.Join(cfg.Node.StaticPodPath, "etcd.yaml")
	return []Check{
		{Name: rootCheck, Run: func(context.Context) error { return checkRoot() }},
		{Name: "AssetDir", Run: func(context.Context) error { return CheckAssetDir(assetDir) }},
		{Name: "ExternalEtcd", Run: func(context.Context) error {
			if l == nil {
				return errors.New("etcd.external is set: bootstrap start needs a local etcd to boot from (external etcd is not supported yet)")
			}
			return nil
		}},
		{Name: "APIServerPort", Run: func(context.Context) error {
			return portcheck.Free(adv, int(cfg.APIServer.BindPort), "apiServer.bindPort")
		}},
		{Name: "BootEtcdPorts", Run: func(context.Context) error {
			if l == nil {
				return nil
			}
			return errors.Join(portcheck.Free(adv, int(l.BootClientPort), "etcd.local.bootClientPort"),
				portcheck.Free("127.0.0.1", int(l.BootClientPort), "etcd.local.bootClientPort"),
				portcheck.Free(adv, int(l.BootPeerPort), "etcd.local.bootPeerPort"))
		}},
		{Name: "EtcdPorts", Run: func(context.Context) error {
			if l == nil || fileExists(staticEtcd) {
				return nil // ours, from an earlier run: start converges
			}
			return errors.Join(portcheck.Free(adv, int(l.ClientPort), "etcd.local.clientPort"), portcheck.Free(adv, int(l.PeerPort), "etcd.local.peerPort"))
		}},
		{Name: "EtcdDataDir", Run: func(context.Context) error {
			if l == nil || fileExists(staticEtcd) {
				return nil
			}
			if entries, err := os.ReadDir(l.DataDir); err == nil && len(entries) > 0 {
				return fmt.Errorf("etcd data dir %s is not empty, and no etcd static pod of this cluster is installed: it holds another cluster's data. Move it aside (never delete it unread), or use `bootstrap recover --etcd-data-dir %s` to bring that cluster back", l.DataDir, l.DataDir)
			}
			return nil
		}},
		{Name: "StaticPodPath", Run: func(context.Context) error {
			if fi, err := os.Stat(cfg.Node.StaticPodPath); err != nil || !fi.IsDir() {
				return fmt.Errorf("%s (node.staticPodPath) does not exist: create it and set the kubelet's staticPodPath to it", cfg.Node.StaticPodPath)
			}
			return nil
		}},
		{Name: "Kubelet", Warn: true, Run: func(ctx context.Context) error { return kubeletHealthy(ctx) }},
	}
}

const rootCheck = "Root"

// geteuid is os.Geteuid, replaced in tests.
var geteuid = os.Geteuid

func checkRoot() error {
	if uid := geteuid(); uid != 0 {
		return fmt.Errorf("bootstrap must run as root (running as uid %d): it reads the asset dir's private keys and writes the etcd static pod and its certificates", uid)
	}
	return nil
}

// ignores says whether --ignore-preflight-errors names check (or "all").
func ignores(ignore []string, check string) bool {
	for _, n := range ignore {
		n = strings.TrimSpace(n)
		if strings.EqualFold(n, "all") || strings.EqualFold(n, check) {
			return true
		}
	}
	return false
}

// CheckAssetDir says which files a rendered asset dir lacks, if any. The CA
// private keys (tls/ca.key, the etcd and front-proxy CA keys) are not among
// them: start and recover sign nothing, so the node need not hold them
// (docs/cloud-init.md); only render does. The encryption configuration is:
// a temporary apiserver without it could not read the cluster's Secrets.
func CheckAssetDir(dir string) error {
	var missing []string
	for _, rel := range []string{assets.ConfigFile, assets.CACert, assets.EncryptionConfig, assets.APIServerCert, assets.APIServerKey,
		assets.APIServerEtcdClientCert, assets.APIServerEtcdClientKey, assets.EtcdCACert, assets.EtcdServerCert,
		assets.EtcdServerKey, assets.EtcdPeerCert, assets.EtcdPeerKey, assets.AdminKubeconfig, assets.KubeletKubeconfig,
		assets.EtcdStaticPod, assets.ManifestsDir} {
		_, err := os.Stat(assets.Path(dir, rel))
		if errors.Is(err, os.ErrPermission) {
			return fmt.Errorf("asset dir %s: %w: run bootstrap as root (the asset dir holds private keys readable by root only)", dir, err)
		}
		if err != nil {
			missing = append(missing, rel)
		}
	}
	if len(missing) > 0 {
		return fmt.Errorf("asset dir %s lacks %s: run `bootstrap render --asset-dir %s` first", dir, strings.Join(missing, ", "), dir)
	}
	return nil
}

// kubeletHealthy asks the kubelet's local health endpoint.
func kubeletHealthy(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	// Any answer will do: the kubelet runs, and start waits for it anyway.
	var status *kubeprobe.StatusError
	if err := kubeprobe.HTTPGetOK(ctx, http.DefaultClient, "http://127.0.0.1:10248/healthz"); err != nil && !errors.As(err, &status) {
		return fmt.Errorf("the kubelet does not answer on 127.0.0.1:10248 (%v): start waits for it to register the node, so start it with --kubeconfig <asset-dir>/%s", err, assets.KubeletKubeconfig)
	}
	return nil
}

func fileExists(p string) bool {
	_, err := os.Stat(p)
	return err == nil
}
