package recovery

import (
	"context"
	"fmt"
	"path/filepath"
	"strings"
	"time"

	"github.com/bootstrap-k8s/bootstrap/pkg/apis/bootstrap/v1alpha1"
	"github.com/bootstrap-k8s/bootstrap/pkg/assets"
	"github.com/bootstrap-k8s/bootstrap/pkg/failure"
	"github.com/bootstrap-k8s/bootstrap/pkg/start"
	"github.com/bootstrap-k8s/bootstrap/pkg/ui"
)

// RecoverOptions are the flags of `bootstrap recover`.
type RecoverOptions struct {
	AssetDir string
	// At most one source: a snapshot file, a surviving (stopped) etcd data
	// dir, or a running etcd. None: this cluster's etcd member is looked for
	// where the asset dir says it runs.
	EtcdBackup    string
	EtcdDataDir   string
	EtcdEndpoints []string
	// Force moves existing etcd data dirs aside instead of refusing.
	Force bool
	// ReapplyAssets applies every asset dir manifest over the restored state;
	// by default only what the restored state lacks is created.
	ReapplyAssets         bool
	Timeout               time.Duration
	Wait                  string // start.WaitControlPlane or start.WaitAll
	IgnorePreflightErrors []string
	// InstallGuard installs the guard static pod once recovered (false for
	// the guard itself, which is installed already).
	InstallGuard bool
}

// Recover brings a cluster back from its saved etcd state and replays
// `start`'s flow on it. From a snapshot or a data dir the state is restored
// into the persistent member's data dir first and that member started as
// the etcd static pod; from then on, as from a running etcd, the temporary
// apiserver works on it directly. The
// control-plane pods come from the DaemonSets and Deployments found in the
// state; the asset dir only fills in what is missing.
func Recover(ctx context.Context, o RecoverOptions, p *ui.Printer) error {
	n := 0
	for _, set := range []bool{o.EtcdBackup != "", o.EtcdDataDir != "", len(o.EtcdEndpoints) > 0} {
		if set {
			n++
		}
	}
	if n > 1 {
		return failure.InvalidConfig(fmt.Errorf("give one source: --etcd-backup FILE (a `bootstrap backup` snapshot), --etcd-data-dir DIR (a stopped member's surviving data, read, never changed) or --etcd-endpoints URLS (a running etcd)"))
	}
	// A missing or partial asset dir is said before anything is read.
	if err := start.CheckAssetDir(o.AssetDir); err != nil {
		return failure.Preflight(err)
	}
	cfg, err := v1alpha1.Load(assets.Path(o.AssetDir, assets.ConfigFile))
	if err != nil {
		return err
	}
	if n == 0 {
		if o.EtcdEndpoints, err = findRunningEtcd(ctx, o.AssetDir, cfg); err != nil {
			return failure.Preflight(err)
		}
		p.Infof("recover", "No source given: this cluster's etcd answers at %s; recovering on it (pass --etcd-backup or --etcd-data-dir to restore saved state instead)", strings.Join(o.EtcdEndpoints, ","))
	}
	so := start.Options{
		AssetDir:              o.AssetDir,
		Timeout:               o.Timeout,
		IgnorePreflightErrors: o.IgnorePreflightErrors,
		Recovery:              start.Recovery{ReapplyAssets: o.ReapplyAssets},
		Wait:                  o.Wait,
		InstallGuard:          o.InstallGuard,
	}
	// Check the source before anything else: a corrupt snapshot or another
	// cluster's data must fail before the node is touched.
	var read stateReader
	if len(o.EtcdEndpoints) > 0 {
		cli, err := checkRunningEtcd(ctx, o.AssetDir, o.EtcdEndpoints, p)
		if err != nil {
			return failure.Preflight(err)
		}
		defer cli.Close()
		read = etcdReader(ctx, cli)
		so.Mode, so.Recovery.EtcdEndpoints = start.RunningEtcd, o.EtcdEndpoints
	} else {
		src, fromDir := o.EtcdBackup, o.EtcdDataDir != ""
		db := src
		if fromDir {
			src = o.EtcdDataDir
			db = filepath.Join(src, "member", "snap", "db")
			if err := checkNotInUse(db); err != nil {
				return failure.Preflight(fmt.Errorf("%s is not a usable etcd data dir: %w", src, err))
			}
		}
		st, err := Verify(db)
		if err != nil {
			return err
		}
		p.Infof("recover", "Source %s: %d keys, revision %d, hash %08x", src, st.TotalKey, st.Revision, st.Hash)
		read = boltReader(db)
		so.Mode = start.Restore
		so.Recovery.Restore = func(ctx context.Context, cfg *v1alpha1.BootstrapConfiguration) error {
			_, err := RestoreMember(cfg, RestoreOptions{Snapshot: src, FromDataDir: fromDir, Force: o.Force, Verified: true,
				Logf: func(f string, a ...any) { p.Linef(f, a...) }})
			return err
		}
	}
	// Part of start's preflight, so that it is reported and ignored like
	// every other check, before anything is restored.
	so.Recovery.ClusterIdentity = func(context.Context) error { return CheckClusterIdentity(o.AssetDir, read) }
	return start.Run(ctx, so, p)
}
