package etcdmembers

import (
	"context"
	"fmt"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"
)

// Status is one member as a membership change must judge it.
type Status struct {
	Member
	PeerURLs, ClientURLs []string
	// Started: the member has run (an added member that never started has
	// no name and no client URLs yet).
	Started bool
	// Healthy: it answered a status request within the timeout.
	Healthy bool
}

// List returns every member and whether it answers, asking each member on
// its own client URLs with timeout each.
func List(ctx context.Context, cli *clientv3.Client, timeout time.Duration) ([]Status, error) {
	resp, err := cli.MemberList(ctx)
	if err != nil {
		return nil, fmt.Errorf("listing etcd members: %w", err)
	}
	var out []Status
	for _, m := range resp.Members {
		s := Status{Member: Member{ID: m.ID, Name: m.Name, IsLearner: m.IsLearner},
			PeerURLs: m.PeerURLs, ClientURLs: m.ClientURLs, Started: m.Name != ""}
		for _, u := range m.ClientURLs {
			sctx, cancel := context.WithTimeout(ctx, timeout)
			_, err := cli.Status(sctx, u)
			cancel()
			if err == nil {
				s.Healthy = true
				break
			}
		}
		out = append(out, s)
	}
	return out, nil
}

// Quorum is how many of voters members a cluster needs to work.
func Quorum(voters int) int { return voters/2 + 1 }

// Voters counts the voting members of ms, and those of them that answer.
func Voters(ms []Status) (voters, healthy int) {
	for _, m := range ms {
		if !m.IsLearner {
			voters++
			if m.Healthy {
				healthy++
			}
		}
	}
	return voters, healthy
}
