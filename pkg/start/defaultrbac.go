package start

import (
	"context"
	"fmt"
	"time"

	"github.com/bootstrap-k8s/bootstrap/pkg/defaultrbac"
	"github.com/bootstrap-k8s/bootstrap/pkg/endpoints"
	"github.com/bootstrap-k8s/bootstrap/pkg/ui"
)

// defaultRBACTimeout bounds the background creation: the hand-over waits for
// its outcome, and kube-apiserver creates whatever is missing anyway.
const defaultRBACTimeout = 30 * time.Second

// createDefaultRBACInBackground creates Kubernetes' default RBAC policy
// through the temporary apiserver while kube-apiserver's pod starts, so that
// its rbac/bootstrap-roles hook (the last /readyz check of the hand-over)
// only reads and compares (pkg/defaultrbac says why that is safe). The
// hand-over collects the outcome before the temporary apiserver stops.
func (f *flow) createDefaultRBACInBackground(ctx context.Context) error {
	p, _ := defaultrbac.For(f.cfg.KubernetesVersion, f.cfg.APIServer.ExtraArgs)
	cs, done := f.tempCS, make(chan string, 1)
	f.defaultRBAC = done
	f.p.Detailf("default-rbac", "%d objects of Kubernetes %s's policy, created through the temporary apiserver", p.Len(), p.Minor)
	member := endpoints.EtcdLoopbackClient(f.cfg)
	go func() {
		ctx, cancel := context.WithTimeout(ctx, defaultRBACTimeout)
		defer cancel()
		begin := time.Now()
		// The persistent member must serve first. Writing while it joined
		// made it lose its first raft request (publishing itself, sent just
		// before the leader's snapshot reset its peers) and wait out etcd's
		// 7 s request timeout: start took 11–13 s instead of 6 (3 of 3 runs).
		if err := waitEtcdServing(ctx, f.o.AssetDir, []string{member}, defaultRBACTimeout, nil); err != nil {
			done <- fmt.Sprintf("Default RBAC policy: not created, kube-apiserver creates it (the persistent etcd member did not serve within %s: %v)", ui.Seconds(time.Since(begin)), err)
			return
		}
		waited := time.Since(begin)
		created, err := p.Create(ctx, cs)
		if err != nil {
			done <- fmt.Sprintf("Default RBAC policy: %d of %d objects created in %s (after %s for etcd); kube-apiserver creates the rest (%v)", created, p.Len(), ui.Seconds(time.Since(begin)-waited), ui.Seconds(waited), err)
			return
		}
		done <- fmt.Sprintf("Default RBAC policy: %d of %d objects created in %s, after %s for the persistent etcd member to serve (the others existed)", created, p.Len(), ui.Seconds(time.Since(begin)-waited), ui.Seconds(waited))
	}()
	return nil
}

func (f *flow) skipDefaultRBAC(context.Context) (string, error) {
	if f.temp == nil || f.tempCS == nil {
		return "no temporary apiserver", nil
	}
	if f.o.Mode.recovering() {
		return "the saved state holds the policy kube-apiserver created", nil
	}
	if _, why := defaultrbac.For(f.cfg.KubernetesVersion, f.cfg.APIServer.ExtraArgs); why != "" {
		return "kube-apiserver creates it: " + why, nil
	}
	return "", nil
}

// defaultRBACCreated reports the background creation's outcome, once.
func (f *flow) defaultRBACCreated() {
	if f.defaultRBAC == nil {
		return
	}
	f.p.Infof("hand-over", "%s", <-f.defaultRBAC)
	f.defaultRBAC = nil
}
