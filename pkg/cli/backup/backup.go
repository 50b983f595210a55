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
snapshots; --keep N then removes the oldest of them beyond N.

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
			if err != nil {
				return err
			}
			p.Infof("backup", "Saved %s in %s: %d keys, revision %d, hash %08x, %d bytes, etcd storage %s",
				res.Path, ui.Seconds(time.Since(begin)), res.Status.TotalKey, res.Status.Revision, res.Status.Hash, res.Status.TotalSize, res.Status.Version)
			for _, r := range res.Removed {
				p.Infof("backup", "Removed old snapshot %s (--keep %d)", r, o.Keep)
			}
			_, err = fmt.Fprintln(g.Out, res.Path)
			return err
		},
	}
	cmd.Flags().StringVar(&o.AssetDir, "asset-dir", "", "the cluster's asset dir (etcd client certificate and configuration)")
	cmd.Flags().StringVar(&o.Output, "output", "", "snapshot file, or a directory for timestamped snapshots")
	cmd.Flags().IntVar(&o.Keep, "keep", 0, "with a directory output: keep this many snapshots, removing older ones bootstrap wrote")
	cmd.Flags().BoolVar(&o.Force, "force", false, "replace an existing --output file")
	cmd.Flags().StringSliceVar(&o.Endpoints, "etcd-endpoints", nil, "etcd client URLs (default: the local member from the asset dir's configuration)")
	return cmd
}
