package recovery

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	clientsnapshot "go.etcd.io/etcd/client/v3/snapshot"
	"go.etcd.io/etcd/etcdutl/v3/snapshot"
	"go.uber.org/zap"

	"github.com/bootstrap-k8s/bootstrap/pkg/apis/bootstrap/v1alpha1"
	"github.com/bootstrap-k8s/bootstrap/pkg/assets"
	"github.com/bootstrap-k8s/bootstrap/pkg/etcdutil"
)

// SnapshotPrefix names the files a rotating backup writes:
// etcd-snapshot-20260102T030405Z.db. Rotation only ever removes such files.
const SnapshotPrefix = "etcd-snapshot-"

// BackupOptions are the flags of `bootstrap backup`.
type BackupOptions struct {
	AssetDir string
	// Output is a file, or a directory (then a timestamped file is written in it).
	Output string
	// Keep, when > 0, keeps that many snapshots in the output directory and
	// removes older ones this command wrote.
	Keep int
	// Force allows replacing an existing output file.
	Force bool
	// Endpoints default to the local member from the asset dir's configuration.
	Endpoints []string
	Now       func() time.Time
}

// BackupResult says what was written.
type BackupResult struct {
	Path    string
	Status  snapshot.Status
	Removed []string
}

// Backup saves a verified snapshot of the cluster's etcd.
func Backup(ctx context.Context, o BackupOptions) (*BackupResult, error) {
	if o.Now == nil {
		o.Now = time.Now
	}
	cfg, err := v1alpha1.Load(assets.Path(o.AssetDir, assets.ConfigFile))
	if err != nil {
		return nil, err
	}
	if len(o.Endpoints) == 0 {
		if cfg.Etcd.Local == nil {
			o.Endpoints = cfg.Etcd.External.Endpoints
		} else {
			o.Endpoints = []string{fmt.Sprintf("https://127.0.0.1:%d", cfg.Etcd.Local.ClientPort)}
		}
	}
	target, dir, err := o.target()
	if err != nil {
		return nil, err
	}
	ccfg, err := etcdutil.Config(o.AssetDir, o.Endpoints...)
	if err != nil {
		return nil, err
	}
	tmp, err := os.CreateTemp(filepath.Dir(target), "."+filepath.Base(target)+".tmp-*")
	if err != nil {
		return nil, fmt.Errorf("cannot write in %s: %w", filepath.Dir(target), err)
	}
	tmp.Close()
	defer os.Remove(tmp.Name())
	os.Remove(tmp.Name()) // the snapshot client creates the file itself
	if _, err := clientsnapshot.SaveWithVersion(ctx, zap.NewNop(), ccfg, tmp.Name()); err != nil {
		return nil, fmt.Errorf("taking the snapshot from %s: %w", strings.Join(o.Endpoints, ","), err)
	}
	st, err := Verify(tmp.Name())
	if err != nil {
		return nil, fmt.Errorf("the snapshot just taken does not verify (%w); nothing was written", err)
	}
	if err := os.Chmod(tmp.Name(), 0o600); err != nil {
		return nil, err
	}
	if err := os.Rename(tmp.Name(), target); err != nil {
		return nil, err
	}
	res := &BackupResult{Path: target, Status: st}
	if dir && o.Keep > 0 {
		res.Removed, err = rotate(filepath.Dir(target), o.Keep)
	}
	return res, err
}

// target picks the output file; dir reports a directory output.
func (o BackupOptions) target() (path string, dir bool, err error) {
	if o.Output == "" {
		return "", false, fmt.Errorf("--output is required: a snapshot file, or a directory for timestamped snapshots")
	}
	fi, statErr := os.Stat(o.Output)
	if (statErr == nil && fi.IsDir()) || strings.HasSuffix(o.Output, "/") || o.Keep > 0 {
		if err := os.MkdirAll(o.Output, 0o700); err != nil {
			return "", false, err
		}
		name := SnapshotPrefix + o.Now().UTC().Format("20060102T150405Z") + ".db"
		return filepath.Join(o.Output, name), true, nil
	}
	if statErr == nil && !o.Force {
		return "", false, fmt.Errorf("%s exists: pass --force to replace it, or choose another --output", o.Output)
	}
	return o.Output, false, nil
}

// Verify checks a snapshot file's integrity and returns its status.
func Verify(path string) (snapshot.Status, error) {
	if _, err := os.Stat(path); err != nil {
		return snapshot.Status{}, err
	}
	if err := checkBoltShape(path); err != nil {
		return snapshot.Status{}, fmt.Errorf("%s is not a valid etcd snapshot: %w", path, err)
	}
	st, err := snapshot.NewV3(zap.NewNop()).Status(path)
	if err != nil {
		return st, fmt.Errorf("%s is not a valid etcd snapshot: %w", path, err)
	}
	if st.Revision == 0 {
		return st, fmt.Errorf("%s is not a valid etcd snapshot: it holds no keys", path)
	}
	return st, nil
}

// rotate removes the oldest snapshots this command wrote beyond keep.
func rotate(dir string, keep int) ([]string, error) {
	matches, err := filepath.Glob(filepath.Join(dir, SnapshotPrefix+"*.db"))
	if err != nil {
		return nil, err
	}
	sort.Strings(matches) // timestamped names sort by age
	var removed []string
	for len(matches) > keep {
		if err := os.Remove(matches[0]); err != nil {
			return removed, err
		}
		removed = append(removed, matches[0])
		matches = matches[1:]
	}
	return removed, nil
}
