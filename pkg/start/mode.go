package start

import (
	"context"
	"errors"
	"fmt"

	"github.com/bootstrap-k8s/bootstrap/pkg/apis/bootstrap/v1alpha1"
)

// Mode is what the flow starts from. Each mode has its own preflight list
// (preflightFor), as kubeadm builds its checks per command.
type Mode int

const (
	// Fresh: `bootstrap start`. A new cluster from the asset dir, or the
	// continuation of an earlier run on this node.
	Fresh Mode = iota
	// Restore: `bootstrap recover --etcd-backup|--etcd-data-dir`. Saved state
	// is put into the persistent member's data dir (Options.Recovery.Restore)
	// and that member started as the etcd static pod; the rest runs on it as
	// in RunningEtcd. The etcd data dir may be in use (the restore moves it
	// aside, with --force).
	Restore
	// RunningEtcd: `bootstrap recover` on an etcd that still runs
	// (Options.Recovery.EtcdEndpoints). The temporary apiserver stores into
	// it; there is no boot member and no etcd move, and etcd's ports and data
	// dir are in use by design.
	RunningEtcd
)

func (m Mode) String() string {
	switch m {
	case Restore:
		return "restore"
	case RunningEtcd:
		return "running-etcd"
	}
	return "fresh"
}

// recovering: the cluster's state exists already (a saved state or a
// running etcd) and the asset dir only fills in what it lacks.
func (m Mode) recovering() bool { return m != Fresh }

// Recovery is what the recovery modes need from their caller (pkg/recovery).
type Recovery struct {
	// Restore (mode Restore) writes the saved state into the persistent
	// member's data dir. It runs after preflight, before the temporary
	// control plane.
	Restore func(ctx context.Context, cfg *v1alpha1.BootstrapConfiguration) error
	// EtcdEndpoints (mode RunningEtcd) are the running etcd's client URLs.
	EtcdEndpoints []string
	// ClusterIdentity (both recovery modes, optional) checks that the saved
	// state belongs to this asset dir's cluster; it runs as the preflight
	// check ClusterIdentityCheck, reported and ignorable like every other.
	ClusterIdentity func(ctx context.Context) error
	// ReapplyAssets applies every asset dir manifest over the saved state;
	// by default only what the state lacks is created: the cluster's current
	// definitions win.
	ReapplyAssets bool
}

// ClusterIdentityCheck names the preflight check Recovery.ClusterIdentity.
const ClusterIdentityCheck = "ClusterIdentity"

func (o Options) validateMode() error {
	r := o.Recovery
	switch o.Mode {
	case Fresh:
		if r.Restore != nil || len(r.EtcdEndpoints) > 0 || r.ClusterIdentity != nil || r.ReapplyAssets {
			return errors.New("start: Options.Recovery is only for the recovery modes")
		}
	case Restore:
		if r.Restore == nil || len(r.EtcdEndpoints) > 0 {
			return errors.New("start: mode restore needs Recovery.Restore and no Recovery.EtcdEndpoints")
		}
	case RunningEtcd:
		if len(r.EtcdEndpoints) == 0 || r.Restore != nil {
			return errors.New("start: mode running-etcd needs Recovery.EtcdEndpoints and no Recovery.Restore")
		}
	default:
		return fmt.Errorf("start: unknown mode %d", o.Mode)
	}
	return nil
}

// preflightFor builds the checks of a mode. resumed: this cluster's
// kube-apiserver already serves (it holds the API port).
func preflightFor(o Options, cfg *v1alpha1.BootstrapConfiguration, resumed bool) []Check {
	all := preflightChecks(o.AssetDir, cfg)
	var drop []string
	if resumed {
		drop = append(drop, "APIServerPort")
	}
	switch o.Mode {
	case Restore:
		// The restore moves the data dir aside (with --force); no boot member runs.
		drop = append(drop, "EtcdDataDir", "BootEtcdPorts")
	case RunningEtcd:
		drop = append(drop, "EtcdDataDir", "EtcdPorts", "BootEtcdPorts")
	}
	checks := all[:0:0]
	for _, c := range all {
		if contains(drop, c.Name) {
			continue
		}
		if c.Name == "Kubelet" && o.Mode.recovering() {
			// Nothing may be restored for a node that cannot run the pods.
			c.Warn = false
		}
		checks = append(checks, c)
	}
	if o.Mode.recovering() && o.Recovery.ClusterIdentity != nil {
		checks = append(checks, Check{Name: ClusterIdentityCheck, Run: o.Recovery.ClusterIdentity})
	}
	return checks
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}
