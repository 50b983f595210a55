package assets

import (
	"testing"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apiserver/pkg/apis/audit"
	"k8s.io/apiserver/pkg/audit/policy"
	"k8s.io/apiserver/pkg/authentication/user"
	"k8s.io/apiserver/pkg/authorization/authorizer"
)

// TestAuditPolicy loads the rendered policy with kube-apiserver's own
// loader and evaluates requests against it: Metadata for everything a
// person or controller does (never a body, in particular not for Secrets),
// nothing for health checks, events and the components' lease renewals.
func TestAuditPolicy(t *testing.T) {
	dir, _ := renderFresh(t)
	var cm *corev1.ConfigMap
	for _, o := range decodeAll(t, dir)["10-kube-apiserver.yaml"] {
		if c, ok := o.(*corev1.ConfigMap); ok && c.Name == KubeAPIServer+"-config" {
			cm = c
		}
	}
	if cm == nil {
		t.Fatal("no kube-apiserver ConfigMap")
	}
	p, err := policy.LoadPolicyFromBytes([]byte(cm.Data[auditPolicyCM]))
	if err != nil {
		t.Fatalf("kube-apiserver's loader refuses the policy: %v", err)
	}
	eval := policy.NewPolicyRuleEvaluator(p)
	admin := &user.DefaultInfo{Name: AdminUser, Groups: []string{AdminGroup}}
	node := &user.DefaultInfo{Name: "system:node:n1", Groups: []string{NodesGroup}}
	sched := &user.DefaultInfo{Name: SchedulerUser}
	res := func(u user.Info, verb, group, resource, sub, ns string) authorizer.Attributes {
		return authorizer.AttributesRecord{User: u, Verb: verb, APIGroup: group, APIVersion: "v1", Resource: resource, Subresource: sub, Namespace: ns, Name: "x", ResourceRequest: true}
	}
	for _, tc := range []struct {
		name  string
		attrs authorizer.Attributes
		want  audit.Level
	}{
		{"secret read", res(admin, "get", "", "secrets", "", "kube-system"), audit.LevelMetadata},
		{"secret create", res(admin, "create", "", "secrets", "", "default"), audit.LevelMetadata},
		{"secret written by a node", res(node, "update", "", "secrets", "", "default"), audit.LevelMetadata},
		{"configmap update", res(admin, "update", "", "configmaps", "", "default"), audit.LevelMetadata},
		{"token request", res(node, "create", "", "serviceaccounts", "token", "default"), audit.LevelMetadata},
		{"token review", res(admin, "create", "authentication.k8s.io", "tokenreviews", "", ""), audit.LevelMetadata},
		{"pod delete", res(admin, "delete", "", "pods", "", "default"), audit.LevelMetadata},
		{"lease delete by the scheduler is logged", res(sched, "delete", "coordination.k8s.io", "leases", "", "kube-system"), audit.LevelMetadata},
		{"lease renewal by the scheduler", res(sched, "update", "coordination.k8s.io", "leases", "", "kube-system"), audit.LevelNone},
		{"node lease renewal", res(node, "update", "coordination.k8s.io", "leases", "", "kube-node-lease"), audit.LevelNone},
		{"lease update by a person is logged", res(admin, "update", "coordination.k8s.io", "leases", "", "kube-system"), audit.LevelMetadata},
		{"events", res(node, "create", "", "events", "", "default"), audit.LevelNone},
		{"readyz", authorizer.AttributesRecord{User: &user.DefaultInfo{Name: "system:anonymous"}, Verb: "get", Path: "/readyz"}, audit.LevelNone},
		{"livez detail", authorizer.AttributesRecord{User: &user.DefaultInfo{Name: "system:anonymous"}, Verb: "get", Path: "/livez/etcd"}, audit.LevelNone},
		{"metrics", authorizer.AttributesRecord{User: admin, Verb: "get", Path: "/metrics"}, audit.LevelMetadata},
	} {
		got := eval.EvaluatePolicyRule(tc.attrs)
		if got.Level != tc.want {
			t.Errorf("%s: level %s, want %s", tc.name, got.Level, tc.want)
		}
	}
	for _, r := range p.Rules {
		if r.Level.GreaterOrEqual(audit.LevelRequest) {
			t.Errorf("rule %+v logs request bodies", r)
		}
	}
}
