package start

import (
	"context"
	"fmt"
	"time"

	"github.com/bootstrap-k8s/bootstrap/pkg/defaultrbac"
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
	go func() {
		ctx, cancel := context.WithTimeout(ctx, defaultRBACTimeout)
		defer cancel()
		begin := time.Now()
		created, err := p.Create(ctx, cs)
		if err != nil {
			done <- fmt.Sprintf("Default RBAC policy: %d of %d objects created in %s; kube-apiserver creates the rest (%v)", created, p.Len(), ui.Seconds(time.Since(begin)), err)
			return
		}
		done <- fmt.Sprintf("Default RBAC policy: %d of %d objects created in %s (the others existed)", created, p.Len(), ui.Seconds(time.Since(begin)))
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
