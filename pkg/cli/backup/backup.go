// Package backup implements `bootstrap backup`.
package backup

import (
	"errors"
	"fmt"
	"time"

	"github.com/spf13/cobra"

	"github.com/bootstrap-k8s/bootstrap/pkg/cli/global"
	"github.com/bootstrap-k8s/bootstrap/pkg/recovery"
	"github.com/bootstrap-k8s/bootstrap/pkg/ui"
)

// NewCommand returns `bootstrap backup`.
func NewCommand(g *global.Options) *cobra.Command {
	var o recovery.BackupOptions
	cmd := &cobra.Command{
		Use:   "backup --asset-dir DIR --output FILE|DIR [--keep N]",
		Short: "Save a verified etcd snapshot of the cluster",
		Long: `backup takes an etcd snapshot over TLS with the asset dir's etcd client
certificate, verifies it (integrity, hash, revision, key count), and writes it
0600 through a temporary file, so a failed backup never leaves a broken file
under the final name. With a directory as --output it writes timestamped
snapshots named etcd-snapshot-<UTC time>.db; --keep N then removes the
oldest of them beyond N. Rotation only removes regular files with exactly that
name (ordered by the time in the name), never the snapshot just written and
never another file (-v lists what it left alone); if it fails, the new
snapshot is kept and backup exits 1.

Every network step has a deadline: an endpoint that does not answer fails
within seconds with the reason (nothing listening, not TLS, another CA), and
--timeout bounds the whole backup.

Run it on a schedule: docs/disaster-recovery.md has a systemd timer.`,
		Example: `  bootstrap backup --asset-dir /opt/bootstrap/assets --output /var/backups/etcd/ --keep 7`,
		Args:    cobra.NoArgs,
		RunE: func(*cobra.Command, []string) error {
			if o.AssetDir == "" {
				return errors.New("--asset-dir is required")
			}
			ctx, stop := global.SignalContext()
			defer stop()
			p := g.Printer()
			begin := time.Now()
			res, err := recovery.Backup(ctx, o)
			if res == nil {
				return err
			}
			p.Infof("backup", "Saved %s in %s: %d keys, revision %d, hash %08x, %d bytes, etcd storage %s",
				res.Path, ui.Seconds(time.Since(begin)), res.Status.TotalKey, res.Status.Revision, res.Status.Hash, res.Status.TotalSize, res.Status.Version)
			for _, r := range res.Rotation.Removed {
				p.Infof("backup", "Removed old snapshot %s (--keep %d)", r, o.Keep)
			}
			for _, k := range res.Rotation.Kept {
				p.Detailf("backup", "Kept %s", k)
			}
			for _, l := range res.Rotation.LeftAlone {
				p.Detailf("backup", "Left alone %s", l)
			}
			if _, werr := fmt.Fprintln(g.Out, res.Path); werr != nil && err == nil {
				err = werr
			}
			return err
		},
	}
	cmd.Flags().StringVar(&o.AssetDir, "asset-dir", "", "the cluster's asset dir (etcd client certificate and configuration)")
	cmd.Flags().StringVar(&o.Output, "output", "", "snapshot file, or a directory for timestamped snapshots")
	cmd.Flags().IntVar(&o.Keep, "keep", 0, "with a directory output: keep this many snapshots, removing older ones bootstrap wrote")
	cmd.Flags().BoolVar(&o.Force, "force", false, "replace an existing --output file")
	cmd.Flags().StringSliceVar(&o.Endpoints, "etcd-endpoints", nil, "the etcd client URL to snapshot, https://HOST:PORT (default: the local member from the asset dir's configuration)")
	cmd.Flags().DurationVar(&o.Timeout, "timeout", recovery.DefaultBackupTimeout, "give up after this long, the snapshot transfer included")
	return cmd
}
