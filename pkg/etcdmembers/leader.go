package etcdmembers

import (
	"context"
	"fmt"

	clientv3 "go.etcd.io/etcd/client/v3"
)

// HandOffLeadership makes sure the member serving endpoint is not the
// leader before it is removed: if it leads, leadership moves to the member
// to at once (raft's leader transfer). A removed leader otherwise leaves
// the others without one until their election timeout fires — writes stall
// for a second or more, longer on a loaded machine. cli must reach endpoint.
// It reports whether leadership moved.
func HandOffLeadership(ctx context.Context, cli *clientv3.Client, endpoint string, to uint64) (bool, error) {
	st, err := cli.Status(ctx, endpoint)
	if err != nil {
		return false, fmt.Errorf("etcd status of %s: %w", endpoint, err)
	}
	if st.Leader != st.Header.MemberId || st.Leader == to {
		return false, nil
	}
	if _, err := cli.MoveLeader(ctx, to); err != nil {
		return false, fmt.Errorf("moving etcd leadership from %s to member %x: %w", endpoint, to, err)
	}
	return true, nil
}
