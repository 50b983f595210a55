// Package guard implements `bootstrap guard`, the node agent that keeps the
// self-hosted control plane running (pkg/guard).
package guard

import (
	"context"
	"time"

	"github.com/spf13/cobra"

	"github.com/bootstrap-k8s/bootstrap/pkg/cli/global"
	guardflow "github.com/bootstrap-k8s/bootstrap/pkg/guard"
)

// NewCommand returns `bootstrap guard`.
func NewCommand(g *global.Options) *cobra.Command {
	var o guardflow.Options
	cmd := &cobra.Command{
		Use:   "guard --asset-dir DIR",
		Short: "Keep this node's self-hosted control plane running (runs as a static pod)",
		Long: `guard runs on the control-plane node as a static pod that start installs
(<node.staticPodPath>/bootstrap-guard.yaml), so the kubelet runs it even when no
apiserver answers. It probes kube-apiserver on loopback every --interval. When
none has listened for --down-after (after a power cut, or once every
kube-apiserver pod is gone) it runs ` + "`bootstrap recover`" + ` on the node's running
etcd: a temporary apiserver serves the kubelet the cluster's current pods, the
self-hosted kube-apiserver starts and takes over. When kube-apiserver serves but
the controller-manager or scheduler has held no lease for --stuck-after, the
same flow places what is missing.

Turn it off by removing the static pod file (and pass --install-guard=false to
later start and recover runs).`,
		Example: `  # what the static pod runs
  bootstrap guard --asset-dir /opt/bootstrap/assets

  # by hand, faster to act, for a test
  bootstrap guard --asset-dir /opt/bootstrap/assets --interval 500ms --down-after 2s`,
		Args: cobra.NoArgs,
		RunE: global.RunOnAssetDir(&o.AssetDir, func(ctx context.Context) error {
			return guardflow.Run(ctx, o, g.Printer())
		}),
	}
	f := cmd.Flags()
	f.StringVar(&o.AssetDir, "asset-dir", "", "the cluster's asset dir on this node")
	f.DurationVar(&o.Interval, "interval", time.Second, "time between two probes of kube-apiserver")
	f.DurationVar(&o.DownAfter, "down-after", 3*time.Second, "recover once no kube-apiserver has listened on loopback for this long")
	f.DurationVar(&o.StuckAfter, "stuck-after", 45*time.Second, "recover once the controller-manager or scheduler has held no fresh lease for this long")
	f.DurationVar(&o.RecoverTimeout, "recover-timeout", 5*time.Minute, "give one recovery this long")
	return cmd
}
