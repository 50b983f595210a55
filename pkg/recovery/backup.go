package recovery

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	clientsnapshot "go.etcd.io/etcd/client/v3/snapshot"
	"go.etcd.io/etcd/etcdutl/v3/snapshot"

	"github.com/bootstrap-k8s/bootstrap/pkg/apis/bootstrap/v1alpha1"
	"github.com/bootstrap-k8s/bootstrap/pkg/assets"
	"github.com/bootstrap-k8s/bootstrap/pkg/endpoints"
	"github.com/bootstrap-k8s/bootstrap/pkg/etcdutil"
)

// SnapshotPrefix names the files a rotating backup writes:
// etcd-snapshot-20260102T030405Z.db. Rotation only ever removes such files.
const SnapshotPrefix = "etcd-snapshot-"

// DefaultBackupTimeout bounds a whole backup, the snapshot transfer
// included; an unreachable endpoint fails much sooner (etcdutil.DialTimeout).
const DefaultBackupTimeout = 2 * time.Minute

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
	// Timeout bounds the whole backup (DefaultBackupTimeout when zero).
	Timeout time.Duration
	Now     func() time.Time
}

// BackupResult says what was written.
type BackupResult struct {
	Path     string
	Status   snapshot.Status
	Rotation Rotation
}

// Backup saves a verified snapshot of the cluster's etcd. When it returns a
// result and an error, the snapshot was saved and only rotation failed.
func Backup(ctx context.Context, o BackupOptions) (*BackupResult, error) {
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Timeout <= 0 {
		o.Timeout = DefaultBackupTimeout
	}
	if o.Keep < 0 {
		return nil, fmt.Errorf("--keep %d: give the number of snapshots to keep (1 or more), or leave it out to keep every one", o.Keep)
	}
	cfg, err := v1alpha1.Load(assets.Path(o.AssetDir, assets.ConfigFile))
	if err != nil {
		return nil, err
	}
	if len(o.Endpoints) == 0 {
		if cfg.Etcd.Local == nil {
			o.Endpoints = cfg.Etcd.External.Endpoints
		} else {
			o.Endpoints = []string{endpoints.EtcdLoopbackClient(cfg)}
		}
	}
	if len(o.Endpoints) != 1 {
		return nil, fmt.Errorf("a snapshot is taken from one member: give exactly one --etcd-endpoints URL (got %d: %s)", len(o.Endpoints), strings.Join(o.Endpoints, ","))
	}
	ep := o.Endpoints[0]
	if _, err := etcdutil.ParseEndpoint(ep); err != nil {
		return nil, err
	}
	target, dir, err := o.target()
	if err != nil {
		return nil, err
	}
	ccfg, err := etcdutil.Config(o.AssetDir, ep)
	if err != nil {
		return nil, err
	}
	ctx, cancel := context.WithTimeout(ctx, o.Timeout)
	defer cancel()
	// The etcd client retries an unreachable endpoint until its context
	// ends and then reports only "context deadline exceeded": one probe
	// first says what is wrong with the endpoint, within seconds.
	if err := etcdutil.Probe(ctx, ccfg.TLS, ep); err != nil {
		return nil, fmt.Errorf("%w; no snapshot was taken", err)
	}
	tmp, err := os.CreateTemp(filepath.Dir(target), "."+filepath.Base(target)+".tmp-*")
	if err != nil {
		return nil, fmt.Errorf("cannot write in %s: %w", filepath.Dir(target), err)
	}
	tmp.Close()
	defer os.Remove(tmp.Name())
	os.Remove(tmp.Name()) // the snapshot client creates the file itself
	if _, err := clientsnapshot.SaveWithVersion(ctx, etcdutil.Logger(), ccfg, tmp.Name()); err != nil {
		if errors.Is(ctx.Err(), context.DeadlineExceeded) {
			return nil, fmt.Errorf("taking the snapshot from %s did not finish within --timeout %s (etcd answers, but the transfer stalled or the database is large: raise --timeout); nothing was written", ep, o.Timeout)
		}
		return nil, fmt.Errorf("taking the snapshot from %s: %w; nothing was written", ep, err)
	}
	st, err := Verify(tmp.Name())
	if err != nil {
		return nil, fmt.Errorf("the snapshot just taken does not verify (%w); nothing was written", err)
	}
	if err := os.Chmod(tmp.Name(), 0o600); err != nil {
		return nil, err
	}
	if err := place(tmp.Name(), target, o.Force && !dir); err != nil {
		return nil, err
	}
	res := &BackupResult{Path: target, Status: st}
	if dir && o.Keep > 0 {
		if res.Rotation, err = rotate(filepath.Dir(target), o.Keep, target); err != nil {
			return res, fmt.Errorf("the new snapshot %s is saved and kept, but removing old snapshots beyond --keep %d failed: %w", target, o.Keep, err)
		}
	}
	return res, nil
}

// place moves the verified temporary file to its final name. Without
// replace it never overwrites a file that appeared meanwhile (a hard link
// fails if the name exists), not even another backup of the same second.
func place(tmp, target string, replace bool) error {
	if replace {
		return os.Rename(tmp, target)
	}
	err := os.Link(tmp, target)
	if errors.Is(err, os.ErrExist) {
		return fmt.Errorf("%s appeared while the snapshot was taken (another backup in the same second?): it was not replaced, and the new snapshot was not kept", target)
	}
	if err != nil {
		// A file system without hard links: check, then rename.
		if _, serr := os.Lstat(target); serr == nil {
			return fmt.Errorf("%s exists: pass --force to replace it, or choose another --output", target)
		}
		return os.Rename(tmp, target)
	}
	return nil
}

// target picks the output file; dir reports a directory output.
func (o BackupOptions) target() (path string, dir bool, err error) {
	if o.Output == "" {
		return "", false, fmt.Errorf("--output is required: a snapshot file, or a directory for timestamped snapshots")
	}
	fi, statErr := os.Stat(o.Output)
	if (statErr == nil && fi.IsDir()) || strings.HasSuffix(o.Output, "/") || o.Keep > 0 {
		if statErr == nil && !fi.IsDir() {
			return "", false, fmt.Errorf("--keep needs a directory as --output, and %s is a file: give a directory for timestamped snapshots", o.Output)
		}
		if err := os.MkdirAll(o.Output, 0o700); err != nil {
			return "", false, err
		}
		return filepath.Join(o.Output, SnapshotName(o.Now())), true, nil
	}
	if statErr == nil && !o.Force {
		return "", false, fmt.Errorf("%s exists: pass --force to replace it, or choose another --output", o.Output)
	}
	return o.Output, false, nil
}

// Verify checks a snapshot file's integrity and returns its status. A file
// that is not a bolt database, is truncated, or has damaged pages is an
// error saying so; bbolt's own checks, which panic on damaged pages, run in
// a child process (see isolatedStatus), so that no snapshot can crash the
// command.
func Verify(path string) (snapshot.Status, error) {
	if _, err := os.Stat(path); err != nil {
		return snapshot.Status{}, err
	}
	if err := checkBoltShape(path); err != nil {
		return snapshot.Status{}, fmt.Errorf("%s is not a valid etcd snapshot: %w", path, err)
	}
	st, err := isolatedStatus(path)
	if err != nil {
		return st, fmt.Errorf("%s is not a valid etcd snapshot: %w", path, err)
	}
	if st.Revision == 0 {
		return st, fmt.Errorf("%s is not a valid etcd snapshot: it holds no keys", path)
	}
	return st, nil
}
