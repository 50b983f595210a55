// Package render implements `bootstrap render`: configuration in, complete
// asset dir out (PKI, kubeconfigs, manifests, the etcd static pod).
package render

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/spf13/cobra"

	"github.com/bootstrap-k8s/bootstrap/pkg/assets"
	"github.com/bootstrap-k8s/bootstrap/pkg/cli/configflags"
	"github.com/bootstrap-k8s/bootstrap/pkg/cli/global"
	"github.com/bootstrap-k8s/bootstrap/pkg/ui"
)

// NewCommand returns `bootstrap render`.
func NewCommand(g *global.Options) *cobra.Command {
	var cfg configflags.Flags
	var assetDir string
	cmd := &cobra.Command{
		Use:   "render --asset-dir DIR [--config FILE | --advertise-address IP ...]",
		Short: "Write the assets of a self-hosted control plane: PKI, kubeconfigs, manifests",
		Long: `render writes everything 'bootstrap start' applies and 'kubectl apply -f' can
re-apply later. Re-running it on an existing asset dir starts from that dir's
bootstrap-config.yaml (unless --config names another file; flags override
it), reuses the CAs, the service-account key and the bootstrap token,
re-issues a certificate only when it no longer matches the configuration, and
never deletes a file. Images derived from kubernetesVersion follow a new
version; images set to something else stay.`,
		Example: `  bootstrap render --asset-dir /opt/bootstrap/assets --advertise-address 10.0.0.10
  bootstrap render --asset-dir /opt/bootstrap/assets --config cluster.yaml
  # upgrade: re-render for the next version, then kubectl apply (docs/upgrades.md)
  bootstrap render --asset-dir /opt/bootstrap/assets --kubernetes-version v1.37.2`,
		Args: cobra.NoArgs,
		RunE: func(*cobra.Command, []string) error {
			if assetDir == "" {
				return errors.New("--asset-dir is required: the directory to write the assets to")
			}
			return run(g, &cfg, assetDir)
		},
	}
	cmd.Flags().StringVar(&assetDir, "asset-dir", "", "directory to write the assets to (created 0700 if missing)")
	cfg.AddFlags(cmd.Flags())
	return cmd
}

func run(g *global.Options, flags *configflags.Flags, assetDir string) error {
	p := g.Printer()
	start := time.Now()
	abs, err := filepath.Abs(assetDir)
	if err != nil {
		return err
	}
	// Re-rendering an asset dir starts from its own configuration: an
	// upgrade is `render --asset-dir DIR --kubernetes-version V`, not a
	// re-typing of every flag of the first render.
	if existing := assets.Path(abs, assets.ConfigFile); flags.File == "" {
		if _, err := os.Stat(existing); err == nil {
			p.Infof("render", "Using the asset dir's configuration %s (flags override it)", existing)
			flags.File = existing
		}
	}
	c, err := flags.Load()
	if err != nil {
		return err
	}
	p.Infof("render", "Rendering cluster %q (Kubernetes %s, node %s, apiserver %s) into %s",
		c.ClusterName, c.KubernetesVersion, c.Node.Name, c.APIServer.ExternalURL, abs)
	res, err := assets.Render(c, abs, assets.Options{Logf: p.Linef})
	if err != nil {
		return fmt.Errorf("render: %w (nothing that existed was deleted; fix the cause and re-run)", err)
	}
	p.Infof("render", "Wrote %d files, %d unchanged, in %s", len(res.Written), len(res.Unchanged), ui.Seconds(time.Since(start)))
	fmt.Fprintf(g.Err, `
The assets are in %[1]s. Next:
  - keep %[1]s/tls/*.key safe: they are the cluster's CA keys;
  - on the first node, run: bootstrap start --asset-dir %[1]s
  - then: kubectl --kubeconfig %[1]s/%[2]s get nodes
`, abs, assets.AdminKubeconfig)
	return nil
}
