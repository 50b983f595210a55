package join

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/clientcmd"

	clientv3 "go.etcd.io/etcd/client/v3"

	"github.com/bootstrap-k8s/bootstrap/pkg/assets"
	"github.com/bootstrap-k8s/bootstrap/pkg/etcdmembers"
	"github.com/bootstrap-k8s/bootstrap/pkg/etcdutil"
	"github.com/bootstrap-k8s/bootstrap/pkg/failure"
)

// memberStatusTimeout bounds one member's status answer.
const memberStatusTimeout = 3 * time.Second

// members is the cluster's etcd as the join found it.
type members struct {
	cli  *clientv3.Client
	list []etcdmembers.Status
	self *etcdmembers.Status // this node's member from an earlier, interrupted join
}

// AdminClient is a client of the asset dir's admin kubeconfig (it points at
// the control-plane endpoint).
func AdminClient(assetDir string) (kubernetes.Interface, error) {
	rc, err := clientcmd.BuildConfigFromFlags("", assets.Path(assetDir, assets.AdminKubeconfig))
	if err != nil {
		return nil, fmt.Errorf("the admin kubeconfig of %s: %w", assetDir, err)
	}
	rc.Timeout = 15 * time.Second
	return kubernetes.NewForConfig(rc)
}

func connectMembers(ctx context.Context, o *Options, cp *controlPlane) (*members, error) {
	cs, err := AdminClient(cp.AssetDir)
	if err != nil {
		return nil, err
	}
	eps := etcdmembers.ControlPlaneEndpoints(ctx, cs, cp.cfg, cp.AdvertiseAddress)
	cli, err := etcdutil.New(cp.AssetDir, eps...)
	if err != nil {
		return nil, err
	}
	lctx, cancel := context.WithTimeout(ctx, o.Timeout)
	defer cancel()
	list, err := etcdmembers.List(lctx, cli, memberStatusTimeout)
	if err != nil {
		cli.Close()
		return nil, fmt.Errorf("reaching the cluster's etcd at %s: %w (do the control-plane nodes' etcd ports answer from this node?)", strings.Join(eps, ", "), err)
	}
	m := &members{cli: cli, list: list}
	for i := range list {
		for _, u := range list[i].PeerURLs {
			if u == cp.peerURL {
				m.self = &list[i]
			}
		}
	}
	return m, nil
}

// checkCanAdd refuses a member that would make etcd lose quorum, or that
// etcd cannot take now.
func (m *members) checkCanAdd(ctx context.Context, cp *controlPlane) error {
	var errs []error
	if s := m.self; s != nil && (s.Started || !s.IsLearner) {
		errs = append(errs, fmt.Errorf("etcd has a member at this node's peer URL %s already (%s, %x): run bootstrap leave on this node, or remove that member, first", cp.peerURL, s.Name, s.ID))
	}
	for _, s := range m.list {
		if m.self != nil && s.ID == m.self.ID {
			continue
		}
		if s.Name == cp.NodeName {
			errs = append(errs, fmt.Errorf("etcd member %s (%x) has this node's name at %s: names must be unique (--node-name)", s.Name, s.ID, strings.Join(s.PeerURLs, ",")))
		}
		if s.IsLearner || !s.Started {
			errs = append(errs, fmt.Errorf("etcd member %x (%s) is still joining: wait for that join to finish, or remove the member, and join one node at a time", s.ID, strings.Join(s.PeerURLs, ",")))
		}
	}
	voters, healthy := etcdmembers.Voters(m.list)
	// Once promoted, this member counts: the cluster then needs
	// Quorum(voters+1) of its members, this one among them.
	if need := etcdmembers.Quorum(voters + 1); healthy+1 < need {
		errs = append(errs, fmt.Errorf("would break quorum: %d of %d etcd members answer; with this node's member %d would be needed; bring the missing members back (or remove them) first", healthy, voters, need))
	}
	if err := errors.Join(errs...); err != nil {
		return failure.Preflight(err)
	}
	return nil
}

// initialCluster is the running members and this node's, name=peerURL.
func (m *members) initialCluster(cp *controlPlane) string {
	var parts []string
	for _, s := range m.list {
		if s.Started {
			for _, u := range s.PeerURLs {
				parts = append(parts, s.Name+"="+u)
			}
		}
	}
	return strings.Join(append(parts, cp.NodeName+"="+cp.peerURL), ",")
}

func (m *members) addLearner(ctx context.Context, cp *controlPlane) (uint64, error) {
	if m.self != nil {
		return m.self.ID, nil
	}
	actx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	return etcdmembers.AddLearner(actx, m.cli, cp.peerURL)
}

// promote waits for the kubelet to start the member and for it to catch
// up (etcd refuses to promote a learner that lags), then promotes it.
func (m *members) promote(ctx context.Context, o *Options, cp *controlPlane, id uint64) error {
	o.Logf("etcd", "Waiting for the kubelet to start member %x and for it to catch up (up to %s)", id, cp.Timeout)
	start := time.Now()
	if err := etcdmembers.Promote(ctx, m.cli, id, cp.Timeout); err != nil {
		return err
	}
	o.Logf("etcd", "Promoted member %x to a voting member in %s", id, time.Since(start).Round(100*time.Millisecond))
	return nil
}
