package defaultrbac

import (
	"context"
	"io/fs"
	"reflect"
	"strings"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/bootstrap-k8s/bootstrap/internal/testcontrolplane"
)

const autoupdate = "rbac.authorization.kubernetes.io/autoupdate"

func TestEmbeddedPoliciesParse(t *testing.T) {
	files, err := fs.Glob(policies, "policy-v*.yaml")
	if err != nil || len(files) == 0 {
		t.Fatalf("embedded policies: %v %v", files, err)
	}
	for _, f := range files {
		data, _ := policies.ReadFile(f)
		p, err := Parse(data)
		if err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		// The hook's own counts for v1.37: 73 cluster roles, 54 bindings,
		// 7 roles and 7 role bindings (kube-system, kube-public).
		if len(p.ClusterRoles) < 60 || len(p.ClusterRoleBindings) < 40 || len(p.Roles) == 0 || len(p.RoleBindings) == 0 {
			t.Errorf("%s: %d cluster roles, %d bindings, %d roles, %d role bindings: too few", f, len(p.ClusterRoles), len(p.ClusterRoleBindings), len(p.Roles), len(p.RoleBindings))
		}
		names := map[string]bool{}
		for _, r := range p.ClusterRoles {
			names[r.Name] = true
			if r.Annotations[autoupdate] != "true" {
				t.Errorf("%s: ClusterRole %s lacks %s=true: the hook would not keep it up to date", f, r.Name, autoupdate)
			}
		}
		for _, want := range []string{"cluster-admin", "system:node", "system:kube-controller-manager", "system:kube-scheduler", "admin", "system:controller:daemon-set-controller"} {
			if !names[want] {
				t.Errorf("%s: no ClusterRole %s", f, want)
			}
		}
		for _, r := range p.Roles {
			if r.Namespace == "" {
				t.Errorf("%s: Role %s has no namespace", f, r.Name)
			}
		}
	}
}

func TestFor(t *testing.T) {
	for _, tc := range []struct {
		version string
		args    map[string]string
		want    string // "" when a policy applies, else part of the reason
	}{
		{"v1.37.2", nil, ""},
		{"v1.37.0", map[string]string{"audit-log-path": "/x"}, ""},
		{"v1.36.3", nil, "no default policy generated for Kubernetes 1.36"},
		{"v1.37.2", map[string]string{"feature-gates": "X=true"}, "feature-gates"},
		{"v1.37.2", map[string]string{"emulated-version": "1.36"}, "emulated-version"},
		{"latest", nil, `version "latest"`},
	} {
		p, why := For(tc.version, tc.args)
		switch {
		case tc.want == "" && (p == nil || why != ""):
			t.Errorf("For(%s, %v) = %v, %q; want a policy", tc.version, tc.args, p, why)
		case tc.want != "" && (p != nil || !strings.Contains(why, tc.want)):
			t.Errorf("For(%s, %v) = %v, %q; want none, because of %q", tc.version, tc.args, p, why, tc.want)
		}
	}
}

// TestCreate creates the policy through the real temporary apiserver: every
// object exactly as generated, and a second run creates nothing.
func TestCreate(t *testing.T) {
	if testing.Short() {
		t.Skip("starts an etcd member and the temporary apiserver")
	}
	cp := testcontrolplane.Start(t)
	p, why := For("v1.37.2", nil)
	if p == nil {
		t.Fatal(why)
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	created, err := p.Create(ctx, cp.Client)
	if err != nil || created != p.Len() {
		t.Fatalf("Create: %d of %d created, %v", created, p.Len(), err)
	}
	for _, want := range p.ClusterRoles {
		got, err := cp.Client.RbacV1().ClusterRoles().Get(ctx, want.Name, metav1.GetOptions{})
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(got.Rules, want.Rules) || !reflect.DeepEqual(got.AggregationRule, want.AggregationRule) ||
			!reflect.DeepEqual(got.Labels, want.Labels) || !reflect.DeepEqual(got.Annotations, want.Annotations) {
			t.Errorf("ClusterRole %s stored differs from the policy", want.Name)
		}
		if mf := got.ManagedFields; len(mf) != 1 || mf[0].Manager != "defaultrbac.test" {
			t.Errorf("ClusterRole %s: managed fields %+v; want the test's client alone (the e2e tells an update by kube-apiserver's hook by them)", want.Name, mf)
		}
	}
	for _, want := range p.RoleBindings {
		got, err := cp.Client.RbacV1().RoleBindings(want.Namespace).Get(ctx, want.Name, metav1.GetOptions{})
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(got.Subjects, want.Subjects) || got.RoleRef != want.RoleRef {
			t.Errorf("RoleBinding %s/%s stored differs from the policy", want.Namespace, want.Name)
		}
	}
	if again, err := p.Create(ctx, cp.Client); err != nil || again != 0 {
		t.Errorf("a second Create: %d created, %v; want 0 and no error", again, err)
	}
}
