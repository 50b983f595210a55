//go:build e2e

package e2e

import (
	"context"
	"strings"
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"

	"github.com/bootstrap-k8s/bootstrap/e2e/framework"
	"github.com/bootstrap-k8s/bootstrap/pkg/defaultrbac"
)

// checkDefaultRBACUntouched: start created the default RBAC policy through
// the temporary apiserver, and kube-apiserver's rbac/bootstrap-roles hook
// found every object start created as it would have made it: such an object's
// managed fields name bootstrap alone (an update by the hook would add its own
// manager), except the aggregated cluster roles, whose rules the
// controller-manager's clusterrole-aggregation-controller applies. An object
// the hook created itself (it ran first, e.g. on a loaded machine) is
// allowed and counted; at least one must come from start.
func checkDefaultRBACUntouched(t *testing.T, cs kubernetes.Interface) {
	t.Helper()
	p, why := defaultrbac.For(framework.KubernetesVersion, nil)
	if p == nil {
		t.Fatalf("no default RBAC policy for %s: %s", framework.KubernetesVersion, why)
	}
	ctx := context.Background()
	rbac := cs.RbacV1()
	byStart, byHook := 0, 0
	check := func(kind, name string, meta metav1.Object, aggregated bool, err error) {
		if err != nil {
			t.Errorf("%s %s: %v", kind, name, err)
			return
		}
		var managers []string
		fromStart := false
		for _, m := range meta.GetManagedFields() {
			if m.Manager == "bootstrap" && m.Operation == metav1.ManagedFieldsOperationUpdate {
				fromStart = true
				continue
			}
			if m.Manager == "clusterrole-aggregation-controller" && aggregated {
				continue
			}
			managers = append(managers, m.Manager+"/"+string(m.Operation))
		}
		switch {
		case fromStart && len(managers) > 0:
			t.Errorf("%s %s: created by start, then changed by %s: the generated policy differs from kube-apiserver's (make generate)", kind, name, strings.Join(managers, ", "))
		case fromStart:
			byStart++
		default:
			byHook++
		}
	}
	for _, want := range p.ClusterRoles {
		got, err := rbac.ClusterRoles().Get(ctx, want.Name, metav1.GetOptions{})
		check("ClusterRole", want.Name, got, want.AggregationRule != nil, err)
	}
	for _, want := range p.ClusterRoleBindings {
		got, err := rbac.ClusterRoleBindings().Get(ctx, want.Name, metav1.GetOptions{})
		check("ClusterRoleBinding", want.Name, got, false, err)
	}
	for _, want := range p.Roles {
		got, err := rbac.Roles(want.Namespace).Get(ctx, want.Name, metav1.GetOptions{})
		check("Role", want.Namespace+"/"+want.Name, got, false, err)
	}
	for _, want := range p.RoleBindings {
		got, err := rbac.RoleBindings(want.Namespace).Get(ctx, want.Name, metav1.GetOptions{})
		check("RoleBinding", want.Namespace+"/"+want.Name, got, false, err)
	}
	if byStart == 0 {
		t.Errorf("default RBAC policy: none of its %d objects was created by start", p.Len())
	}
	t.Logf("default RBAC policy: %d objects created by start and left as they were by kube-apiserver, %d created by kube-apiserver's hook", byStart, byHook)
}
