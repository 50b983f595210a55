package defaultrbac

import (
	"context"
	"embed"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"

	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/util/version"
	"k8s.io/client-go/kubernetes"

	"github.com/bootstrap-k8s/bootstrap/pkg/kubeapply"
)

//go:embed policy-v*.yaml
var policies embed.FS

// PolicyFile is the embedded policy of a minor version, e.g. policy-v1.37.yaml.
func PolicyFile(minor string) string { return "policy-v" + minor + ".yaml" }

// gateFlags change which rules kube-apiserver's policy holds; with any of
// them set, the generated policy (default gates) may grant more than the
// hook would, and the hook never removes permissions: nothing is created.
var gateFlags = []string{"feature-gates", "emulated-version", "emulation-forward-compatible"}

// Policy is the default RBAC policy of one Kubernetes minor version.
type Policy struct {
	Minor               string
	ClusterRoles        []*rbacv1.ClusterRole
	ClusterRoleBindings []*rbacv1.ClusterRoleBinding
	Roles               []*rbacv1.Role
	RoleBindings        []*rbacv1.RoleBinding
}

// Len is the number of objects in the policy.
func (p *Policy) Len() int {
	return len(p.ClusterRoles) + len(p.ClusterRoleBindings) + len(p.Roles) + len(p.RoleBindings)
}

// For returns the policy kube-apiserver of version (e.g. v1.37.2) creates,
// or why none applies: no policy generated for that minor, or an
// apiServer.extraArgs flag that changes the policy.
func For(kubernetesVersion string, apiServerArgs map[string]string) (*Policy, string) {
	v, err := version.ParseSemantic(kubernetesVersion)
	if err != nil {
		return nil, fmt.Sprintf("version %q: %v", kubernetesVersion, err)
	}
	for _, f := range gateFlags {
		if _, ok := apiServerArgs[f]; ok {
			return nil, fmt.Sprintf("apiServer.extraArgs sets %s, which changes the policy", f)
		}
	}
	minor := fmt.Sprintf("%d.%d", v.Major(), v.Minor())
	data, err := policies.ReadFile(PolicyFile(minor))
	if err != nil {
		return nil, "no default policy generated for Kubernetes " + minor
	}
	p, err := Parse(data)
	if err != nil { // a test parses every embedded file: a build defect
		return nil, fmt.Sprintf("%s: %v", PolicyFile(minor), err)
	}
	p.Minor = minor
	return p, ""
}

// Parse reads a generated policy file.
func Parse(data []byte) (*Policy, error) {
	objs, err := kubeapply.Decode(data)
	if err != nil {
		return nil, err
	}
	p := &Policy{}
	for _, u := range objs {
		var err error
		switch u.GetKind() {
		case "ClusterRole":
			err = into(u, &p.ClusterRoles)
		case "ClusterRoleBinding":
			err = into(u, &p.ClusterRoleBindings)
		case "Role":
			err = into(u, &p.Roles)
		case "RoleBinding":
			err = into(u, &p.RoleBindings)
		default:
			err = fmt.Errorf("unexpected %s in the policy", u.GetKind())
		}
		if err != nil {
			return nil, fmt.Errorf("%s %s: %w", u.GetKind(), u.GetName(), err)
		}
	}
	return p, nil
}

// into converts u to the typed object T and appends it to list.
func into[T any](u *unstructured.Unstructured, list *[]*T) error {
	obj := new(T)
	if err := runtime.DefaultUnstructuredConverter.FromUnstructuredWithValidation(u.Object, obj, true); err != nil {
		return err
	}
	*list = append(*list, obj)
	return nil
}

// Create creates every object of the policy that does not exist yet, with
// a few requests in flight at once, and returns how many it created. An
// object that exists is left alone: kube-apiserver's hook reconciles it.
// Every failure is returned; the objects not created are then created by
// the hook, as without this package.
func (p *Policy) Create(ctx context.Context, cs kubernetes.Interface) (int, error) {
	rbac := cs.RbacV1()
	opts := metav1.CreateOptions{}
	// The namespaced roles' namespaces first, as the hook does (start's
	// apply phase has created them already).
	var namespaces []func() error
	seen := map[string]bool{}
	for _, ns := range p.namespaces() {
		if !seen[ns] {
			seen[ns] = true
			namespaces = append(namespaces, func() error {
				_, err := cs.CoreV1().Namespaces().Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns}}, opts)
				return err
			})
		}
	}
	if _, err := runAll(namespaces, inFlight); err != nil {
		return 0, err
	}
	var creates []func() error
	for _, o := range p.ClusterRoles {
		creates = append(creates, func() error { _, err := rbac.ClusterRoles().Create(ctx, o, opts); return err })
	}
	for _, o := range p.ClusterRoleBindings {
		creates = append(creates, func() error { _, err := rbac.ClusterRoleBindings().Create(ctx, o, opts); return err })
	}
	for _, o := range p.Roles {
		creates = append(creates, func() error { _, err := rbac.Roles(o.Namespace).Create(ctx, o, opts); return err })
	}
	for _, o := range p.RoleBindings {
		creates = append(creates, func() error { _, err := rbac.RoleBindings(o.Namespace).Create(ctx, o, opts); return err })
	}
	return runAll(creates, inFlight)
}

func (p *Policy) namespaces() []string {
	var out []string
	for _, r := range p.Roles {
		out = append(out, r.Namespace)
	}
	for _, b := range p.RoleBindings {
		out = append(out, b.Namespace)
	}
	return out
}

// inFlight bounds the concurrent creates: enough to keep etcd's batching
// busy, few enough not to crowd kube-apiserver's start on 2 cores.
const inFlight = 8

func runAll(creates []func() error, workers int) (int, error) {
	var (
		created atomic.Int32
		mu      sync.Mutex
		errs    []error
		wg      sync.WaitGroup
	)
	next := make(chan func() error)
	for range workers {
		wg.Go(func() {
			for create := range next {
				switch err := create(); {
				case err == nil:
					created.Add(1)
				case apierrors.IsAlreadyExists(err):
				default:
					mu.Lock()
					errs = append(errs, err)
					mu.Unlock()
				}
			}
		})
	}
	for _, c := range creates {
		next <- c
	}
	close(next)
	wg.Wait()
	return int(created.Load()), errors.Join(errs...)
}
