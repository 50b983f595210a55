// Package recover implements `bootstrap recover`.
package recover

import (
	"time"

	"github.com/spf13/cobra"

	"github.com/bootstrap-k8s/bootstrap/pkg/cli/global"
	"github.com/bootstrap-k8s/bootstrap/pkg/recovery"
)

// NewCommand returns `bootstrap recover`.
func NewCommand(g *global.Options) *cobra.Command {
	var o recovery.RecoverOptions
	cmd := &cobra.Command{
		Use:   "recover --asset-dir DIR (--etcd-backup FILE | --etcd-data-dir DIR)",
		Short: "Bring the control plane back from an etcd snapshot or surviving etcd data",
		Long: `recover is for permanent loss of the control plane. It verifies the source,
restores it into a new boot member data dir (revision bumped and compacted, so
no client sees time go backwards), then replays start's flow: temporary control
plane, persistent etcd member, the control-plane pods defined in the restored
state, hand-over. The asset dir's manifests only fill in what the restored
state lacks, unless --reapply-assets. Existing etcd data dirs are never written
into: with --force they are renamed aside, never deleted.

docs/disaster-recovery.md says which command fits which failure.`,
		Example: `  bootstrap recover --asset-dir /opt/bootstrap/assets --etcd-backup /var/backups/etcd/etcd-snapshot-20261101T030000Z.db`,
		Args:    cobra.NoArgs,
		RunE: func(*cobra.Command, []string) error {
			abs, err := global.AssetDir(o.AssetDir)
			if err != nil {
				return err
			}
			o.AssetDir = abs
			ctx, stop := global.SignalContext()
			defer stop()
			return recovery.Recover(ctx, o, g.Printer())
		},
	}
	f := cmd.Flags()
	f.StringVar(&o.AssetDir, "asset-dir", "", "the cluster's asset dir (its PKI must be the one the saved state was made with)")
	f.StringVar(&o.EtcdBackup, "etcd-backup", "", "a snapshot written by `bootstrap backup`")
	f.StringVar(&o.EtcdDataDir, "etcd-data-dir", "", "a stopped etcd member's surviving data dir (read, never changed)")
	f.BoolVar(&o.Force, "force", false, "move existing etcd data dirs aside (renamed, never deleted) instead of refusing")
	f.BoolVar(&o.ReapplyAssets, "reapply-assets", false, "apply every manifest of the asset dir over the restored state")
	f.DurationVar(&o.Timeout, "timeout", 10*time.Minute, "give up (exit 1, with diagnostics, deleting nothing) after this long")
	f.StringSliceVar(&o.IgnorePreflightErrors, "ignore-preflight-errors", nil, "preflight checks to turn into warnings, by name or all")
	return cmd
}
