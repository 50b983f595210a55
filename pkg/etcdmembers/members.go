package etcdmembers

import (
	"context"
	"errors"
	"fmt"
	"time"

	"go.etcd.io/etcd/api/v3/v3rpc/rpctypes"
	clientv3 "go.etcd.io/etcd/client/v3"
	"k8s.io/apimachinery/pkg/util/wait"
)

// Member is what membership changes need to know of an etcd member.
type Member struct {
	ID        uint64
	Name      string
	IsLearner bool
}

// ByPeerURL finds a member by one of its peer URLs (nil: no such member).
func ByPeerURL(ctx context.Context, cli *clientv3.Client, peerURL string) (*Member, error) {
	resp, err := cli.MemberList(ctx)
	if err != nil {
		return nil, fmt.Errorf("listing etcd members: %w", err)
	}
	for _, m := range resp.Members {
		for _, u := range m.PeerURLs {
			if u == peerURL {
				return &Member{ID: m.ID, Name: m.Name, IsLearner: m.IsLearner}, nil
			}
		}
	}
	return nil, nil
}

// AddLearner adds the member with peerURL as a learner, or returns it when a
// previous run already did: a learner does not count for quorum, so adding
// it never makes the boot member's cluster unavailable.
func AddLearner(ctx context.Context, cli *clientv3.Client, peerURL string) (uint64, error) {
	m, err := ByPeerURL(ctx, cli, peerURL)
	if err != nil {
		return 0, err
	}
	if m != nil {
		return m.ID, nil
	}
	resp, err := cli.MemberAddAsLearner(ctx, []string{peerURL})
	if err != nil {
		return 0, fmt.Errorf("adding etcd learner %s: %w", peerURL, err)
	}
	return resp.Member.ID, nil
}

// Promote promotes a learner once it has caught up, retrying while etcd
// says it is not ready yet, until ctx ends.
func Promote(ctx context.Context, cli *clientv3.Client, id uint64, timeout time.Duration) error {
	var last error
	err := wait.PollUntilContextTimeout(ctx, 100*time.Millisecond, timeout, true, func(ctx context.Context) (bool, error) {
		_, err := cli.MemberPromote(ctx, id)
		switch {
		case err == nil:
			return true, nil
		case errors.Is(err, rpctypes.ErrGRPCMemberNotLearner) || errors.Is(err, rpctypes.ErrMemberNotLearner):
			return true, nil // promoted by an earlier run
		}
		last = err
		return false, nil
	})
	if err != nil {
		return fmt.Errorf("promoting etcd member %x: %w (last error: %v); is the etcd static pod running? check its logs with crictl/ctr or kubectl -n kube-system logs etcd-<node>", id, err, last)
	}
	return nil
}

// Remove removes the member with peerURL, if it is still there. etcd
// refuses to remove a member until the remaining ones have been connected for
// a few seconds ("unhealthy cluster"), so it retries until timeout.
func Remove(ctx context.Context, cli *clientv3.Client, peerURL string, timeout time.Duration) error {
	return RemoveThrough(ctx, cli, cli, peerURL, timeout)
}

// RemoveThrough is Remove with the request sent through via, a client of
// the member that judges it (etcd checks a removal where it arrives), while
// cli, a client of a member that stays, says whether it is done. A member
// that removes itself stops, so via's answer may be an error after all.
func RemoveThrough(ctx context.Context, cli, via *clientv3.Client, peerURL string, timeout time.Duration) error {
	var last error
	err := wait.PollUntilContextTimeout(ctx, 500*time.Millisecond, timeout, true, func(ctx context.Context) (bool, error) {
		m, err := ByPeerURL(ctx, cli, peerURL)
		if err != nil {
			last = err
			return false, nil
		}
		if m == nil {
			return true, nil
		}
		rctx, cancel := context.WithTimeout(ctx, 5*time.Second) // a member that stops may not answer
		defer cancel()
		if _, err := via.MemberRemove(rctx, m.ID); err != nil {
			last = fmt.Errorf("removing etcd member %s (%x): %w", m.Name, m.ID, err)
			// Refused for now, or the member stopped as it removed itself:
			// the next listing says.
			return errors.Is(err, rpctypes.ErrGRPCMemberNotFound), nil
		}
		return true, nil
	})
	if err != nil {
		return fmt.Errorf("%w (last error: %v)", err, last)
	}
	return nil
}
