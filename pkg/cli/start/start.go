// Package start implements `bootstrap start`.
package start

import (
	"context"
	"time"

	"github.com/spf13/cobra"

	"github.com/bootstrap-k8s/bootstrap/pkg/cli/global"
	startflow "github.com/bootstrap-k8s/bootstrap/pkg/start"
)

// NewCommand returns `bootstrap start`.
func NewCommand(g *global.Options) *cobra.Command {
	var o startflow.Options
	cmd := &cobra.Command{
		Use:   "start --asset-dir DIR",
		Short: "Bring up the self-hosted control plane on this node, hand over to it, and exit",
		Long: `start runs on the first node, whose kubelet is running with the asset dir's
kubelet kubeconfig. It starts an embedded etcd member and a temporary apiserver,
applies the asset dir's manifests, moves etcd to the persistent static-pod member,
lets the kubelet run the self-hosted kube-apiserver, scheduler and
controller-manager, hands the API over without dropping requests, and exits.

It never deletes anything: after a failure or a kill, fix the cause and run it
again; it continues where it stopped. On a node that already runs this
cluster's control plane it says so and exits 0.`,
		Example: `  bootstrap start --asset-dir /opt/bootstrap/assets
  bootstrap start --asset-dir /opt/bootstrap/assets --wait=all`,
		Args: cobra.NoArgs,
		RunE: global.RunOnAssetDir(&o.AssetDir, func(ctx context.Context) error {
			return startflow.Run(ctx, o, g.Printer())
		}),
	}
	cmd.Flags().StringVar(&o.AssetDir, "asset-dir", "", "the asset dir 'bootstrap render' wrote")
	cmd.Flags().DurationVar(&o.Timeout, "timeout", 10*time.Minute, "give up (exit 1, with diagnostics, deleting nothing) after this long")
	cmd.Flags().StringSliceVar(&o.IgnorePreflightErrors, "ignore-preflight-errors", nil, "preflight checks to turn into warnings, by name (e.g. Kubelet,EtcdPorts) or all")
	cmd.Flags().StringVar(&o.Wait, "wait", startflow.WaitControlPlane, "exit once this is ready: control-plane (etcd, kube-apiserver, a Ready controller-manager and scheduler, as kubeadm init) or all (also kube-proxy, CoreDNS and every replica)")
	cmd.Flags().BoolVar(&o.InstallGuard, "install-guard", true, "install the guard static pod, which brings the control plane back after a reboot by itself (false: recover by hand)")
	return cmd
}
