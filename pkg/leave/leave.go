package leave

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/clientcmd"

	"github.com/bootstrap-k8s/bootstrap/pkg/apis/bootstrap/v1alpha1"
	"github.com/bootstrap-k8s/bootstrap/pkg/assets"
	"github.com/bootstrap-k8s/bootstrap/pkg/etcdmembers"
	"github.com/bootstrap-k8s/bootstrap/pkg/etcdutil"
	"github.com/bootstrap-k8s/bootstrap/pkg/failure"
)

// Options of one leave.
type Options struct {
	// AssetDir is the cluster's asset dir (its etcd client certificate and
	// admin kubeconfig).
	AssetDir string
	// NodeName and AdvertiseAddress are the leaving node's (its member is
	// found by its peer URL).
	NodeName, AdvertiseAddress string
	// StaticPodPath, EtcdDataDir and EtcdCertDir are the node's (defaults:
	// /etc/kubernetes/manifests and the cluster's etcd.local dirs).
	StaticPodPath, EtcdDataDir, EtcdCertDir string
	// Timeout bounds the membership change.
	Timeout time.Duration
	// Now names the data dir moved aside (tests pin it).
	Now func() time.Time
	// Logf reports progress ([phase] message); nil discards it.
	Logf func(phase, format string, args ...any)
}

// Result is what a leave did.
type Result struct {
	// RemovedMember is the etcd member removed ("" when none was left).
	RemovedMember string
	// Remaining is how many voting members are left.
	Remaining int
	// DataDirMovedTo is where the member's data went.
	DataDirMovedTo string
}

// Run removes this node from the control plane once the quorum rules allow
// it: the label first (its kube-apiserver drains and stops), then the etcd
// member, the static pod and the certificates it held.
func Run(ctx context.Context, o Options) (*Result, error) {
	cfg, err := o.complete()
	if err != nil {
		return nil, err
	}
	rc, err := clientcmd.BuildConfigFromFlags("", assets.Path(o.AssetDir, assets.AdminKubeconfig))
	if err != nil {
		return nil, fmt.Errorf("the admin kubeconfig of %s: %w", o.AssetDir, err)
	}
	rc.Timeout = 15 * time.Second
	cs, err := kubernetes.NewForConfig(rc)
	if err != nil {
		return nil, err
	}
	eps := etcdmembers.ControlPlaneEndpoints(ctx, cs, cfg, o.AdvertiseAddress)
	cli, err := etcdutil.New(o.AssetDir, eps...)
	if err != nil {
		return nil, err
	}
	defer cli.Close()
	lctx, cancel := context.WithTimeout(ctx, o.Timeout)
	defer cancel()
	list, err := etcdmembers.List(lctx, cli, 3*time.Second)
	if err != nil {
		return nil, fmt.Errorf("reaching the other members at %s: %w", strings.Join(eps, ", "), err)
	}
	peer := assets.EtcdPeerURL(cfg, o.AdvertiseAddress)
	self, err := checkCanRemove(list, peer)
	if err != nil {
		return nil, err
	}
	res := &Result{}
	voters, _ := etcdmembers.Voters(list)
	res.Remaining = voters
	// The label goes first: its kube-apiserver pod is deleted, fails its
	// /readyz at once and keeps serving for the shutdown delay, so the load
	// balancer drains it before it exits. Removing the member first broke
	// that kube-apiserver while it still took requests.
	if err := removeLabel(ctx, cs, o.NodeName, o.Timeout); err != nil {
		return res, err
	}
	apiserver := net.JoinHostPort(o.AdvertiseAddress, fmt.Sprint(cfg.APIServer.BindPort))
	o.Logf("control-plane", "Removed label %s from node %s: its kube-apiserver drains and stops", assets.ControlPlaneNodeLabel, o.NodeName)
	if waitClosed(ctx, apiserver, o.Timeout) {
		o.Logf("control-plane", "kube-apiserver on %s stopped", apiserver)
	} else {
		o.Logf("control-plane", "kube-apiserver on %s still listens after %s: removing the etcd member anyway (requests it takes may fail)", apiserver, o.Timeout)
	}
	if self != nil {
		handOffLeadership(lctx, o, assets.EtcdClientURL(cfg, o.AdvertiseAddress), self, list)
		o.Logf("etcd", "Removing member %s (%x) through the other members", self.Name, self.ID)
		if err := etcdmembers.Remove(lctx, cli, peer, o.Timeout); err != nil {
			return nil, fmt.Errorf("removing etcd member %s: %w (re-run bootstrap leave to finish; join --control-plane undoes the label's removal)", self.Name, err)
		}
		res.RemovedMember = self.Name
		if !self.IsLearner {
			res.Remaining--
		}
		o.Logf("etcd", "Removed member %s: %d voting members remain", self.Name, res.Remaining)
	} else {
		o.Logf("etcd", "No etcd member at %s (removed already): cleaning up this node", peer)
	}
	manifest := filepath.Join(o.StaticPodPath, "etcd.yaml")
	if err := os.Remove(manifest); err == nil {
		o.Logf("etcd", "Removed %s: the kubelet stops the member", manifest)
	} else if !errors.Is(err, os.ErrNotExist) {
		return res, err
	}
	if entries, err := os.ReadDir(o.EtcdDataDir); err == nil && len(entries) > 0 {
		// Kept, not deleted: the data of a removed member is useless to
		// the cluster, but it is the operator's to delete.
		to := fmt.Sprintf("%s.removed-%d", o.EtcdDataDir, o.Now().Unix())
		if err := moveAside(ctx, net.JoinHostPort(o.AdvertiseAddress, fmt.Sprint(cfg.Etcd.Local.ClientPort)), o.EtcdDataDir, to); err != nil {
			return res, err
		}
		res.DataDirMovedTo = to
		o.Logf("etcd", "Moved the member's data dir to %s", to)
	}
	for _, f := range []string{"server.crt", "server.key", "peer.crt", "peer.key"} {
		_ = os.Remove(filepath.Join(o.EtcdCertDir, f))
	}
	return res, nil
}

// handOffLeadership moves etcd's leadership to another healthy voter when
// this node's member leads. A leader that removes itself steps down only
// once the removal commits, and the others elect a new one after their
// election timeout: writes fail ("leader changed") or stall for a second
// or more meanwhile (seen in the HA e2e: a 5 s gap through the load
// balancer). Best effort: the removal works without it, only less smoothly.
func handOffLeadership(ctx context.Context, o Options, selfURL string, self *etcdmembers.Status, list []etcdmembers.Status) {
	to := leadershipTarget(self, list)
	if to == nil {
		return
	}
	cli, err := etcdutil.New(o.AssetDir, selfURL)
	if err != nil {
		o.Logf("etcd", "Not moving etcd's leadership first: %v", err)
		return
	}
	defer cli.Close()
	moved, err := etcdmembers.HandOffLeadership(ctx, cli, selfURL, to.ID)
	switch {
	case err != nil:
		o.Logf("etcd", "Not moving etcd's leadership first: %v", err)
	case moved:
		o.Logf("etcd", "Moved etcd's leadership from %s to %s before the removal", self.Name, to.Name)
	}
}

// leadershipTarget is the member etcd's leadership moves to before self is
// removed: a healthy voter other than self (nil: none, or self is a learner,
// which never leads).
func leadershipTarget(self *etcdmembers.Status, list []etcdmembers.Status) *etcdmembers.Status {
	if self.IsLearner {
		return nil
	}
	for i := range list {
		if m := &list[i]; m.ID != self.ID && m.Healthy && !m.IsLearner {
			return m
		}
	}
	return nil
}

// checkCanRemove refuses a removal that would leave etcd without quorum or
// without a peer; it returns this node's member (nil: none left).
func checkCanRemove(list []etcdmembers.Status, peer string) (*etcdmembers.Status, error) {
	var self *etcdmembers.Status
	for i := range list {
		for _, u := range list[i].PeerURLs {
			if u == peer {
				self = &list[i]
			}
		}
	}
	if self == nil || self.IsLearner {
		return self, nil // a learner does not count for quorum
	}
	voters, healthy := etcdmembers.Voters(list)
	remaining, remainingHealthy := voters-1, healthy
	if self.Healthy {
		remainingHealthy--
	}
	switch {
	case remaining == 0:
		return nil, failure.Preflight(fmt.Errorf("would break quorum: %s is the cluster's only etcd member; leaving would lose the cluster's data (bootstrap backup first, if you mean to tear the cluster down)", self.Name))
	case remaining == 1:
		return nil, failure.Preflight(fmt.Errorf("would break quorum: removing %s leaves 1 of 2 etcd members; while the removal commits both are needed, and the one left has no peer for the cluster to survive its loss; join another control-plane node first (then 2 of 3 remain)", self.Name))
	case healthy < etcdmembers.Quorum(voters):
		return nil, failure.Preflight(fmt.Errorf("would break quorum: only %d of %d etcd members answer, %d are needed to commit the removal; bring the missing members back first", healthy, voters, etcdmembers.Quorum(voters)))
	case remainingHealthy < etcdmembers.Quorum(remaining):
		return nil, failure.Preflight(fmt.Errorf("would break quorum: without %s, %d of the remaining %d members answer and %d are needed; bring the missing members back first", self.Name, remainingHealthy, remaining, etcdmembers.Quorum(remaining)))
	}
	return self, nil
}

// moveAside waits (up to a minute) for the kubelet to stop the member, whose
// client port then stops answering, and renames its data dir.
func moveAside(ctx context.Context, clientAddr, from, to string) error {
	_ = waitClosed(ctx, clientAddr, time.Minute)
	if err := os.Rename(from, to); err != nil {
		return fmt.Errorf("moving the etcd data dir aside: %w", err)
	}
	return nil
}

// waitClosed waits up to timeout until nothing accepts connections on addr
// and says whether that happened.
func waitClosed(ctx context.Context, addr string, timeout time.Duration) bool {
	err := wait.PollUntilContextTimeout(ctx, 500*time.Millisecond, timeout, true, func(ctx context.Context) (bool, error) {
		c, err := net.DialTimeout("tcp", addr, time.Second)
		if err != nil {
			return true, nil
		}
		c.Close()
		return false, nil
	})
	return err == nil
}

// removeLabel removes the control-plane label, retrying for up to timeout:
// the request goes through the control-plane endpoint, which may be
// switching between kube-apiservers.
func removeLabel(ctx context.Context, cs kubernetes.Interface, node string, timeout time.Duration) error {
	patch, err := json.Marshal(map[string]any{"metadata": map[string]any{"labels": map[string]any{assets.ControlPlaneNodeLabel: nil}}})
	if err != nil {
		return err
	}
	var last error
	err = wait.PollUntilContextTimeout(ctx, time.Second, timeout, true, func(ctx context.Context) (bool, error) {
		_, last = cs.CoreV1().Nodes().Patch(ctx, node, types.StrategicMergePatchType, patch, metav1.PatchOptions{FieldManager: assets.FieldManager})
		switch {
		case last == nil || apierrors.IsNotFound(last):
			return true, nil
		case apierrors.IsForbidden(last) || apierrors.IsUnauthorized(last) || apierrors.IsInvalid(last):
			return false, last // retrying cannot help
		}
		return false, nil
	})
	if err != nil {
		if last == nil {
			last = err
		}
		return fmt.Errorf("removing label %s from node %s: %w (nothing else was changed; re-run bootstrap leave)", assets.ControlPlaneNodeLabel, node, last)
	}
	return nil
}

func (o *Options) complete() (*v1alpha1.BootstrapConfiguration, error) {
	if o.Logf == nil {
		o.Logf = func(string, string, ...any) {}
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Timeout == 0 {
		o.Timeout = 2 * time.Minute
	}
	if o.StaticPodPath == "" {
		o.StaticPodPath = "/etc/kubernetes/manifests"
	}
	var errs []error
	if o.AssetDir == "" {
		errs = append(errs, errors.New("--asset-dir is required: the cluster's asset dir (its etcd client certificate and admin kubeconfig)"))
	}
	if a, err := netip.ParseAddr(o.AdvertiseAddress); err != nil || a.IsLoopback() || a.IsUnspecified() {
		errs = append(errs, fmt.Errorf("--advertise-address %q must be this node's IP address (its etcd member's peer address)", o.AdvertiseAddress))
	}
	if o.NodeName == "" {
		if h, err := os.Hostname(); err == nil {
			o.NodeName = strings.ToLower(h)
		}
	}
	if err := errors.Join(errs...); err != nil {
		return nil, failure.InvalidConfig(err)
	}
	cfg, err := v1alpha1.Load(assets.Path(o.AssetDir, assets.ConfigFile))
	if err != nil {
		return nil, failure.InvalidConfig(fmt.Errorf("--asset-dir %s: %w", o.AssetDir, err))
	}
	if cfg.Etcd.Local == nil {
		return nil, failure.InvalidConfig(errors.New("the cluster uses external etcd: its control-plane nodes run no etcd member to remove"))
	}
	if o.EtcdDataDir == "" {
		o.EtcdDataDir = cfg.Etcd.Local.DataDir
	}
	if o.EtcdCertDir == "" {
		o.EtcdCertDir = cfg.Etcd.Local.CertDir
	}
	return cfg, nil
}
