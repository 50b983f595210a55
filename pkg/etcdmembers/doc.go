// Package etcdmembers changes an etcd cluster's membership the safe way,
// each step idempotent so that a re-run after a crash converges: a new
// member joins as a learner (no quorum change), is promoted once it has
// caught up, and an old member is removed once the others are healthy.
//
//	id, err := etcdmembers.AddLearner(ctx, cli, "https://10.0.0.2:2380") // the same id when re-run
//	// ... start the new member with --initial-cluster-state=existing ...
//	err = etcdmembers.Promote(ctx, cli, id, time.Minute)
//	err = etcdmembers.Remove(ctx, cli, "https://10.0.0.2:12380", time.Minute)
//	m, err := etcdmembers.ByPeerURL(ctx, cli, peerURL)                     // nil: not a member
package etcdmembers
