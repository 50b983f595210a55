// Package recover implements `bootstrap recover`.
package recover

import (
	"context"
	"time"

	"github.com/spf13/cobra"

	"github.com/bootstrap-k8s/bootstrap/pkg/cli/global"
	"github.com/bootstrap-k8s/bootstrap/pkg/recovery"
	"github.com/bootstrap-k8s/bootstrap/pkg/start"
)

// NewCommand returns `bootstrap recover`.
func NewCommand(g *global.Options) *cobra.Command {
	var o recovery.RecoverOptions
	cmd := &cobra.Command{
		Use:   "recover --asset-dir DIR [--etcd-backup FILE | --etcd-data-dir DIR | --etcd-endpoints URLS]",
		Short: "Bring the control plane back from an etcd snapshot, surviving etcd data or a running etcd",
		Long: `recover is for permanent loss of the control plane. It checks the source first
(integrity, and that it was made with this asset dir's cluster CA), then replays
start's flow on it: temporary control plane, the control-plane pods defined in
the saved state, hand-over.

  --etcd-backup FILE     restore a snapshot into the node's etcd data dir
                         (revision bumped and compacted, so no client sees time
                         go backwards), start that member as the etcd static
                         pod, and recover on it
  --etcd-data-dir DIR    the same from a stopped member's surviving data (read,
                         never changed; if it is the configured etcd data dir it
                         is renamed aside, not deleted)
  --etcd-endpoints URLS  etcd still runs, only the API is gone (e.g. a bad apply
                         deleted the kube-apiserver DaemonSet): recover on it in
                         place; etcd itself is not changed
  (none)                 use this cluster's etcd where the asset dir says it runs

The asset dir's manifests only create what the saved state lacks, unless
--reapply-assets. Existing etcd data dirs are never written into: with --force
they are renamed aside, never deleted.

docs/disaster-recovery.md says which command fits which failure.`,
		Example: `  # etcd lost: from last night's snapshot
  bootstrap recover --asset-dir /opt/bootstrap/assets --etcd-backup /var/backups/etcd/etcd-snapshot-20261101T030000Z.db

  # the API is gone but etcd runs: on it, in place
  bootstrap recover --asset-dir /opt/bootstrap/assets`,
		Args: cobra.NoArgs,
		RunE: global.RunOnAssetDir(&o.AssetDir, func(ctx context.Context) error {
			return recovery.Recover(ctx, o, g.Printer())
		}),
	}
	f := cmd.Flags()
	f.StringVar(&o.AssetDir, "asset-dir", "", "the cluster's asset dir (its PKI must be the one the saved state was made with)")
	f.StringVar(&o.EtcdBackup, "etcd-backup", "", "a snapshot written by 'bootstrap backup'")
	f.StringVar(&o.EtcdDataDir, "etcd-data-dir", "", "a stopped etcd member's surviving data dir (read, never changed)")
	f.StringSliceVar(&o.EtcdEndpoints, "etcd-endpoints", nil, "client URLs of a running etcd of this cluster to recover on in place (default: the asset dir's local member, if it answers and no other source is given)")
	f.BoolVar(&o.Force, "force", false, "move existing etcd data dirs aside (renamed, never deleted) instead of refusing")
	f.BoolVar(&o.ReapplyAssets, "reapply-assets", false, "apply every manifest of the asset dir over the restored state")
	f.DurationVar(&o.Timeout, "timeout", 10*time.Minute, "give up (exit 1, with diagnostics, deleting nothing) after this long")
	f.StringVar(&o.Wait, "wait", start.WaitControlPlane, "exit once this is ready: control-plane or all (also kube-proxy, CoreDNS and every replica)")
	f.StringSliceVar(&o.IgnorePreflightErrors, "ignore-preflight-errors", nil, "preflight checks to turn into warnings, by name or all")
	f.BoolVar(&o.InstallGuard, "install-guard", true, "install the guard static pod once recovered, which brings the control plane back after a reboot by itself")
	return cmd
}
