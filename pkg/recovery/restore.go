package recovery

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"go.etcd.io/etcd/etcdutl/v3/snapshot"
	"go.uber.org/zap"

	"github.com/bootstrap-k8s/bootstrap/pkg/apis/bootstrap/v1alpha1"
	"github.com/bootstrap-k8s/bootstrap/pkg/endpoints"
)

// RevisionBump is added to the restored revision, and the result marked
// compacted, so that no client or watch cache ever sees revisions go
// backwards after a restore (etcd's guidance for restores under Kubernetes).
const RevisionBump = 1_000_000_000

// RestoreOptions say where a snapshot goes.
type RestoreOptions struct {
	// Snapshot is a snapshot file (verified first), or an etcd data dir's
	// member/snap/db (then integrity is checked without the snapshot hash).
	Snapshot    string
	FromDataDir bool
	// Force moves an existing, non-empty target dir aside instead of refusing.
	Force bool
	// Verified says the caller has just verified Snapshot (recover does, in
	// its first step): a second check costs 0.1-0.2 s of the critical path
	// (bbolt's check runs in a child process). etcd's restore still checks
	// a snapshot file's hash as it reads it. RestoreMember then returns an
	// empty Status.
	Verified bool
	Now      func() time.Time
	Logf     func(string, ...any)
}

// RestoreMember restores a snapshot into the persistent member's data dir
// (etcd.local.dataDir) as a one-member cluster of this node's member, which
// `start` then runs as the etcd static pod and recovers on. It never writes
// into an existing data dir: with Force, an existing one is renamed aside
// (never deleted).
//
// (Restoring into the boot member and moving the state to the persistent
// member as a learner, as `start` does on a fresh node, made the learner
// catch up by a raft snapshot, during which its first request to publish
// itself got lost: etcd served no client for its request timeout, 7 s.)
func RestoreMember(cfg *v1alpha1.BootstrapConfiguration, o RestoreOptions) (snapshot.Status, error) {
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Logf == nil {
		o.Logf = func(string, ...any) {}
	}
	src := o.Snapshot
	var st snapshot.Status
	var err error
	if o.FromDataDir {
		src = filepath.Join(o.Snapshot, "member", "snap", "db")
		if _, err := os.Stat(src); err != nil {
			return st, fmt.Errorf("%s is not an etcd data dir (no member/snap/db): %w", o.Snapshot, err)
		}
	}
	if !o.Verified {
		if st, err = Verify(src); err != nil {
			return st, err
		}
	}
	l := cfg.Etcd.Local
	if o.FromDataDir && filepath.Clean(o.Snapshot) == filepath.Clean(l.DataDir) {
		// The source is the persistent member's own data dir: it must make
		// room for the new member, and naming it on the command line is the
		// user's consent. It is renamed, never changed, and stays as a copy.
		aside, err := moveAside(l.DataDir, o.Now())
		if err != nil {
			return st, err
		}
		o.Logf("[recover] Moved the source %s aside to %s; restoring from there", l.DataDir, aside)
		src = filepath.Join(aside, "member", "snap", "db")
	}
	// The boot member's data dir is bootstrap's own scratch space (a start
	// stopped before it cleaned up leaves it): renamed aside without asking,
	// so that no later start mistakes it for its own. The persistent
	// member's needs --force, or being the named source.
	if err := moveAsideIfUsed(l.BootDataDir, true, o.Now(), o.Logf); err != nil {
		return st, err
	}
	if err := moveAsideIfUsed(l.DataDir, o.Force, o.Now(), o.Logf); err != nil {
		return st, err
	}
	peer, name := endpoints.EtcdPeer(cfg), cfg.Node.Name
	err = snapshot.NewV3(zap.NewNop()).Restore(snapshot.RestoreConfig{
		SnapshotPath:        src,
		Name:                name,
		OutputDataDir:       l.DataDir,
		PeerURLs:            []string{peer},
		InitialCluster:      name + "=" + peer,
		InitialClusterToken: cfg.ClusterName,
		SkipHashCheck:       o.FromDataDir,
		RevisionBump:        RevisionBump,
		MarkCompacted:       true,
	})
	if err != nil {
		return st, fmt.Errorf("restoring %s into %s: %w", src, l.DataDir, err)
	}
	return st, os.Chmod(l.DataDir, 0o700)
}

// moveAsideIfUsed renames a non-empty dir to <dir>.before-recover-<time>
// with force, and refuses without.
func moveAsideIfUsed(dir string, force bool, now time.Time, logf func(string, ...any)) error {
	entries, err := os.ReadDir(dir)
	if errors.Is(err, os.ErrNotExist) || (err == nil && len(entries) == 0) {
		if err == nil {
			return os.Remove(dir) // empty: the restore creates it
		}
		return nil
	}
	if err != nil {
		return err
	}
	if !force {
		return fmt.Errorf("etcd data dir %s is not empty: recover never writes into existing etcd data; pass --force to move it aside (it is renamed, not deleted)", dir)
	}
	aside, err := moveAside(dir, now)
	if err != nil {
		return err
	}
	logf("[recover] Moved %s aside to %s", dir, aside)
	return nil
}

// moveAside renames dir to <dir>.before-recover-<time>.
func moveAside(dir string, now time.Time) (string, error) {
	aside := fmt.Sprintf("%s.before-recover-%s", dir, now.UTC().Format("20060102T150405Z"))
	if err := os.Rename(dir, aside); err != nil {
		return "", fmt.Errorf("moving %s aside: %w", dir, err)
	}
	return aside, nil
}
