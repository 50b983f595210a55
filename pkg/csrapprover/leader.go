package csrapprover

import (
	"context"
	"errors"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/tools/leaderelection"
	"k8s.io/client-go/tools/leaderelection/resourcelock"
)

// Lease names where the replicas of the approver elect their leader.
type Lease struct {
	Namespace, Name string
	// Identity of this replica (the pod name).
	Identity string
}

// ErrLostLease: another replica leads now; this one must exit and start over
// (its caches and queue may lag behind the new leader's decisions).
var ErrLostLease = errors.New("lost the leader lease")

// RunLeaderElected runs a.Run while this replica holds lease, so that only
// one replica approves. It returns nil when ctx ends and ErrLostLease when
// the lease was lost.
func (a *Approver) RunLeaderElected(ctx context.Context, lease Lease) error {
	lock := &resourcelock.LeaseLock{
		LeaseMeta:  metav1.ObjectMeta{Namespace: lease.Namespace, Name: lease.Name},
		Client:     a.cs.CoordinationV1(),
		LockConfig: resourcelock.ResourceLockConfig{Identity: lease.Identity},
	}
	return runLeaderElected(ctx, lock, a.opts.Logf, a.Run)
}

func runLeaderElected(parent context.Context, lock resourcelock.Interface, logf func(string, ...any), run func(context.Context) error) error {
	ctx, cancel := context.WithCancel(parent)
	defer cancel()
	leading := make(chan struct{})
	result := make(chan error, 1)
	le, err := leaderelection.NewLeaderElector(leaderelection.LeaderElectionConfig{
		Lock:            lock,
		LeaseDuration:   15 * time.Second,
		RenewDeadline:   10 * time.Second,
		RetryPeriod:     2 * time.Second,
		ReleaseOnCancel: true,
		Name:            "csr-approver",
		Callbacks: leaderelection.LeaderCallbacks{
			OnStartedLeading: func(ctx context.Context) {
				close(leading)
				logf("Leading (lease %s)", lock.Describe())
				result <- run(ctx)
				cancel()
			},
			OnStoppedLeading: func() {},
			OnNewLeader: func(id string) {
				if id != lock.Identity() {
					logf("Waiting: %s leads (lease %s)", id, lock.Describe())
				}
			},
		},
	})
	if err != nil {
		return err
	}
	le.Run(ctx) // returns when ctx ends or the lease is lost
	select {
	case <-leading:
	default:
		return nil // never led: ctx ended while waiting for the lease
	}
	// Run's ctx ends with the lease; wait for it to return.
	runErr := <-result
	if runErr != nil {
		return runErr
	}
	if parent.Err() != nil {
		return nil
	}
	return ErrLostLease
}
