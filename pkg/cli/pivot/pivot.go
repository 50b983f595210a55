// Package pivot implements `bootstrap pivot --to static-pods|self-hosted`.
package pivot

import (
	"encoding/json"
	"fmt"
	"time"

	"github.com/spf13/cobra"

	"github.com/bootstrap-k8s/bootstrap/pkg/cli/global"
	"github.com/bootstrap-k8s/bootstrap/pkg/failure"
	"github.com/bootstrap-k8s/bootstrap/pkg/pivot"
)

// NewCommand returns `bootstrap pivot`.
func NewCommand(g *global.Options) *cobra.Command {
	var o pivot.Options
	var to, output string
	cmd := &cobra.Command{
		Use:   "pivot --to static-pods|self-hosted --asset-dir DIR [--dry-run] [--force]",
		Short: "Convert the self-hosted control plane into static pods, or back, without an outage",
		Long: `pivot --to static-pods converts this node's self-hosted control plane (the
kube-apiserver DaemonSet, the kube-controller-manager and kube-scheduler
Deployments) into static pods in the kubelet's staticPodPath, kubeadm's way:
each static pod is derived from its workload's live pod template (what was
applied last is kept), its Secrets and ConfigMaps written to files beside the
staticPodPath (pki/<component>/, config/<component>/; Secrets 0600). The static
kube-apiserver joins the shared port (SO_REUSEPORT) and must serve before the
DaemonSet is deleted, so no request fails. The guard static pod is removed:
the kubelet restarts static pods by itself.

pivot --to self-hosted goes back: the workloads (as saved by the pivot, with
the static pods' images and flags) are created again, and each static pod is
removed once its workload's pods serve; etcd's static pod stays. The guard is
installed again.

Run it on the control-plane node, as root. Refused with nothing changed: an
unknown --to (exit 3); an asset dir of another cluster, a cluster that is not
Healthy (bootstrap status; --force for Degraded, never for Unhealthy), or a
control plane on several nodes (exit 2). Already in the target mode: says so,
exit 0. A pivot interrupted half-way is finished by running it again.`,
		Example: `  bootstrap pivot --to static-pods --asset-dir /opt/bootstrap/assets --dry-run
  bootstrap pivot --to static-pods --asset-dir /opt/bootstrap/assets
  bootstrap pivot --to self-hosted --asset-dir /opt/bootstrap/assets`,
		Args: cobra.NoArgs,
		RunE: func(*cobra.Command, []string) error {
			mode, err := pivot.ParseMode(to)
			if err != nil {
				return failure.InvalidConfig(err)
			}
			if output != "text" && output != "json" {
				return failure.InvalidConfig(fmt.Errorf("-o %q: give text or json", output))
			}
			dir, err := global.AssetDir(o.AssetDir)
			if err != nil {
				return failure.InvalidConfig(err)
			}
			o.AssetDir, o.To = dir, mode
			ctx, stop := global.SignalContext()
			defer stop()
			p := g.Printer()
			begin := time.Now()
			res, err := pivot.Run(ctx, o, p)
			if res != nil {
				if output == "json" {
					enc := json.NewEncoder(g.Out)
					enc.SetIndent("", "  ")
					if werr := enc.Encode(res); werr != nil && err == nil {
						err = werr
					}
				} else {
					for _, s := range res.Steps {
						fmt.Fprintln(g.Out, s)
					}
				}
			}
			if err == nil && res.Changed {
				p.Infof("pivot", "Pivoted from %s to %s in %s", res.From, res.To, time.Since(begin).Round(100*time.Millisecond))
			}
			return err
		},
	}
	f := cmd.Flags()
	f.StringVar(&to, "to", "", "static-pods or self-hosted")
	f.StringVar(&o.AssetDir, "asset-dir", "", "the cluster's asset dir")
	f.BoolVar(&o.DryRun, "dry-run", false, "check and print what would change, change nothing")
	f.BoolVar(&o.Force, "force", false, "pivot a Degraded cluster (never an Unhealthy one)")
	f.DurationVar(&o.Timeout, "timeout", 5*time.Minute, "give up on each wait of the hand-over after this long")
	f.StringVarP(&output, "output", "o", "text", "text (one line per step) or json")
	return cmd
}
