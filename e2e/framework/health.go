//go:build e2e

package framework

import (
	"context"
	"fmt"
	"time"

	"github.com/bootstrap-k8s/bootstrap/pkg/kubeprobe"
)

// ControlPlaneHealth is when each control-plane health endpoint first
// answered 200, measured from a caller's begin. Both sides of the benchmark
// are judged by it: kubeadm's static pods and bootstrap's self-hosted pods
// listen on the same addresses (kube-apiserver on the node IP :6443,
// controller-manager :10257 and scheduler :10259 on the node's 127.0.0.1).
type ControlPlaneHealth struct {
	APIServerReady           time.Duration // first /readyz 200 (during bootstrap: possibly the temporary apiserver)
	ControllerManagerHealthy time.Duration // first :10257/healthz 200
	SchedulerHealthy         time.Duration // first :10259/healthz 200
	Healthy                  time.Duration // first poll in which all three answered 200
}

// PollControlPlaneHealth polls the three endpoints every 100 ms from inside
// the netns until all three answer 200 in one round, or ctx ends.
func (n *Node) PollControlPlaneHealth(ctx context.Context, begin time.Time) (ControlPlaneHealth, error) {
	var res ControlPlaneHealth
	client := n.NetnsHTTPClient()
	checks := []struct {
		url   string
		first *time.Duration
	}{
		{"https://" + n.IP + ":6443/readyz", &res.APIServerReady},
		{"https://127.0.0.1:10257/healthz", &res.ControllerManagerHealthy},
		{"https://127.0.0.1:10259/healthz", &res.SchedulerHealthy},
	}
	var last string
	for {
		all := true
		for _, c := range checks {
			if err := kubeprobe.HTTPGetOK(ctx, client, c.url); err != nil {
				all, last = false, fmt.Sprintf("%s: %v", c.url, err)
				continue
			}
			if *c.first == 0 {
				*c.first = time.Since(begin)
			}
		}
		if all {
			res.Healthy = time.Since(begin)
			return res, nil
		}
		select {
		case <-ctx.Done():
			return res, fmt.Errorf("%w; last: %s", ctx.Err(), last)
		case <-time.After(100 * time.Millisecond):
		}
	}
}
