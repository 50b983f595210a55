package recovery

import (
	"context"
	"errors"
	"time"

	"github.com/bootstrap-k8s/bootstrap/pkg/apis/bootstrap/v1alpha1"
	"github.com/bootstrap-k8s/bootstrap/pkg/start"
	"github.com/bootstrap-k8s/bootstrap/pkg/ui"
)

// RecoverOptions are the flags of `bootstrap recover`.
type RecoverOptions struct {
	AssetDir string
	// Exactly one source: a snapshot file, or a surviving (stopped) etcd data dir.
	EtcdBackup  string
	EtcdDataDir string
	// Force moves existing etcd data dirs aside instead of refusing.
	Force bool
	// ReapplyAssets applies every asset dir manifest over the restored state;
	// by default only what the restored state lacks is created.
	ReapplyAssets         bool
	Timeout               time.Duration
	IgnorePreflightErrors []string
}

// Recover brings a cluster back from its saved etcd state: it restores the
// state into the boot member's data dir and replays `start`'s flow on it.
// The control-plane pods come from the DaemonSets and Deployments found in
// the restored state; the asset dir only fills in what is missing.
func Recover(ctx context.Context, o RecoverOptions, p *ui.Printer) error {
	if (o.EtcdBackup == "") == (o.EtcdDataDir == "") {
		return errors.New("give exactly one source: --etcd-backup FILE (a `bootstrap backup` snapshot) or --etcd-data-dir DIR (a stopped member's surviving data, read, never changed)")
	}
	src, fromDir := o.EtcdBackup, false
	if o.EtcdDataDir != "" {
		src, fromDir = o.EtcdDataDir, true
	}
	// Check the source before anything else: a corrupt snapshot must fail
	// before the node is touched.
	check := src
	if fromDir {
		check = src + "/member/snap/db"
	}
	st, err := Verify(check)
	if err != nil {
		return err
	}
	p.Infof("recover", "Source %s: %d keys, revision %d, hash %08x", src, st.TotalKey, st.Revision, st.Hash)
	return start.Run(ctx, start.Options{
		AssetDir:              o.AssetDir,
		Timeout:               o.Timeout,
		IgnorePreflightErrors: o.IgnorePreflightErrors,
		CreateMissingOnly:     !o.ReapplyAssets,
		Restore: func(ctx context.Context, cfg *v1alpha1.BootstrapConfiguration) error {
			_, err := RestoreBootMember(cfg, RestoreOptions{Snapshot: src, FromDataDir: fromDir, Force: o.Force,
				Logf: func(f string, a ...any) { p.Linef(f, a...) }})
			return err
		},
	}, p)
}
