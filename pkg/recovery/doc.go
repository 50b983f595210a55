// Package recovery takes etcd snapshots of a cluster and brings a cluster
// back from one (or from surviving etcd data) after permanent loss of its
// control plane.
//
//	res, err := recovery.Backup(ctx, recovery.BackupOptions{AssetDir: dir, Output: "/backups", Keep: 7})
//	// res.Path, res.Status.Hash, res.Status.Revision, res.Status.TotalKey
//
// A snapshot is written to a temporary file, verified (bbolt integrity,
// hash, revision, key count), made 0600 and only then renamed into place, so
// a crash never leaves a half-written file under the final name.
package recovery
