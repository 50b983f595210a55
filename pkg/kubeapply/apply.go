package kubeapply

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/wait"
	utilyaml "k8s.io/apimachinery/pkg/util/yaml"
	"k8s.io/client-go/discovery"
	"k8s.io/client-go/discovery/cached/memory"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/restmapper"

	"github.com/bootstrap-k8s/bootstrap/pkg/assets"
)

// ReadManifests reads every object of every *.yaml file in dir, in file order.
func ReadManifests(dir string) ([]*unstructured.Unstructured, error) {
	files, err := filepath.Glob(filepath.Join(dir, "*.yaml"))
	if err != nil {
		return nil, err
	}
	sort.Strings(files)
	var out []*unstructured.Unstructured
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			return nil, err
		}
		objs, err := Decode(data)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", f, err)
		}
		out = append(out, objs...)
	}
	return out, nil
}

// Decode reads the objects of a YAML stream, in order; empty documents
// (comments only) are left out.
func Decode(data []byte) ([]*unstructured.Unstructured, error) {
	var out []*unstructured.Unstructured
	r := utilyaml.NewYAMLReader(bufio.NewReader(bytes.NewReader(data)))
	for {
		doc, err := r.Read()
		if errors.Is(err, io.EOF) {
			return out, nil
		}
		if err != nil {
			return nil, err
		}
		if len(bytes.TrimSpace(doc)) == 0 {
			continue
		}
		u := &unstructured.Unstructured{}
		if err := utilyaml.Unmarshal(doc, &u.Object); err != nil {
			return nil, err
		}
		if len(u.Object) == 0 {
			continue
		}
		if u.GetKind() == "" || u.GetAPIVersion() == "" {
			return nil, fmt.Errorf("an object without apiVersion or kind")
		}
		out = append(out, u)
	}
}

// tier orders creation: namespaces first, then CRDs, then everything a
// workload refers to, then workloads; so that nothing is applied before what
// it needs exists.
func tier(u *unstructured.Unstructured) int {
	switch u.GroupVersionKind().GroupKind() {
	case schema.GroupKind{Kind: "Namespace"}:
		return 0
	case schema.GroupKind{Group: "apiextensions.k8s.io", Kind: "CustomResourceDefinition"}:
		return 1
	case schema.GroupKind{Group: "apps", Kind: "DaemonSet"}, schema.GroupKind{Group: "apps", Kind: "Deployment"},
		schema.GroupKind{Group: "apps", Kind: "StatefulSet"}, schema.GroupKind{Group: "apps", Kind: "ReplicaSet"},
		schema.GroupKind{Kind: "Pod"}, schema.GroupKind{Group: "batch", Kind: "Job"}, schema.GroupKind{Group: "batch", Kind: "CronJob"}:
		return 3
	}
	return 2
}

// Applier applies objects with server-side apply through the discovery
// REST mapping of whichever apiserver cfg points at.
type Applier struct {
	client dynamic.Interface
	mapper *restmapper.DeferredDiscoveryRESTMapper
	logf   func(string, ...any)
}

// NewApplier builds an Applier for cfg.
func NewApplier(cfg *rest.Config, logf func(string, ...any)) (*Applier, error) {
	dc, err := discovery.NewDiscoveryClientForConfig(cfg)
	if err != nil {
		return nil, err
	}
	client, err := dynamic.NewForConfig(cfg)
	if err != nil {
		return nil, err
	}
	return &Applier{client: client, mapper: restmapper.NewDeferredDiscoveryRESTMapper(memory.NewMemCacheClient(dc)), logf: logf}, nil
}

// ApplyInTiers applies objs tier by tier. Each object is retried until
// timeout with the last error kept: during bootstrap a failure is usually
// something not there yet, not something wrong.
func (a *Applier) ApplyInTiers(ctx context.Context, objs []*unstructured.Unstructured, timeout time.Duration) error {
	byTier := map[int][]*unstructured.Unstructured{}
	for _, o := range objs {
		byTier[tier(o)] = append(byTier[tier(o)], o)
	}
	for t := 0; t <= 3; t++ {
		for _, o := range byTier[t] {
			if err := a.applyWithRetry(ctx, o, timeout); err != nil {
				return err
			}
		}
	}
	return nil
}

func (a *Applier) applyWithRetry(ctx context.Context, o *unstructured.Unstructured, timeout time.Duration) error {
	var last error
	err := wait.PollUntilContextTimeout(ctx, 250*time.Millisecond, timeout, true, func(ctx context.Context) (bool, error) {
		last = a.Apply(ctx, o)
		if meta.IsNoMatchError(last) {
			a.mapper.Reset()
		}
		return last == nil, nil
	})
	if err != nil {
		return fmt.Errorf("applying %s %s: %v (last error: %v)", o.GetKind(), describe(o), err, last)
	}
	return nil
}

// Apply server-side applies one object as field manager "bootstrap".
func (a *Applier) Apply(ctx context.Context, o *unstructured.Unstructured) error {
	ri, err := a.resource(o)
	if err != nil {
		return err
	}
	data, err := o.MarshalJSON()
	if err != nil {
		return err
	}
	_, err = ri.Patch(ctx, o.GetName(), types.ApplyPatchType, data, metav1.PatchOptions{FieldManager: assets.FieldManager, Force: ptrTrue()})
	if err == nil {
		a.logf("%s %s", o.GetKind(), describe(o))
	}
	return err
}

// DryRun returns o as the apiserver would store it after a server-side
// apply, without storing it: comparing it with the live object says whether
// applying would change anything.
func (a *Applier) DryRun(ctx context.Context, o *unstructured.Unstructured) (*unstructured.Unstructured, error) {
	ri, err := a.resource(o)
	if err != nil {
		return nil, err
	}
	data, err := o.MarshalJSON()
	if err != nil {
		return nil, err
	}
	return ri.Patch(ctx, o.GetName(), types.ApplyPatchType, data, metav1.PatchOptions{FieldManager: assets.FieldManager, Force: ptrTrue(), DryRun: []string{metav1.DryRunAll}})
}

// Get returns the live object of o's kind, namespace and name.
func (a *Applier) Get(ctx context.Context, o *unstructured.Unstructured) (*unstructured.Unstructured, error) {
	ri, err := a.resource(o)
	if err != nil {
		return nil, err
	}
	return ri.Get(ctx, o.GetName(), metav1.GetOptions{})
}

// Update writes o (with its resourceVersion: a conflict is an error).
func (a *Applier) Update(ctx context.Context, o *unstructured.Unstructured) error {
	ri, err := a.resource(o)
	if err != nil {
		return err
	}
	_, err = ri.Update(ctx, o, metav1.UpdateOptions{FieldManager: assets.FieldManager})
	return err
}

// Tier is the apply tier of o: 0 namespaces, 1 CRDs, 2 what workloads refer
// to, 3 workloads.
func Tier(o *unstructured.Unstructured) int { return tier(o) }

// Describe names o as "namespace/name" (or "name").
func Describe(o *unstructured.Unstructured) string { return describe(o) }

// resource is the dynamic client for o's kind and namespace.
func (a *Applier) resource(o *unstructured.Unstructured) (dynamic.ResourceInterface, error) {
	gvk := o.GroupVersionKind()
	m, err := a.mapper.RESTMapping(gvk.GroupKind(), gvk.Version)
	if err != nil {
		return nil, err
	}
	if m.Scope.Name() != meta.RESTScopeNameNamespace {
		return a.client.Resource(m.Resource), nil
	}
	ns := o.GetNamespace()
	if ns == "" {
		ns = metav1.NamespaceDefault
	}
	return a.client.Resource(m.Resource).Namespace(ns), nil
}

func describe(o *unstructured.Unstructured) string {
	if o.GetNamespace() != "" {
		return o.GetNamespace() + "/" + o.GetName()
	}
	return o.GetName()
}

func ptrTrue() *bool { b := true; return &b }

// CreateMissing creates, tier by tier, only the objects that do not exist;
// existing ones are left exactly as they are. It returns how many it created.
func (a *Applier) CreateMissing(ctx context.Context, objs []*unstructured.Unstructured, timeout time.Duration) (int, error) {
	created := 0
	for t := 0; t <= 3; t++ {
		for _, o := range objs {
			if tier(o) != t {
				continue
			}
			ri, err := a.resource(o)
			if err != nil {
				return created, err
			}
			if _, err := ri.Get(ctx, o.GetName(), metav1.GetOptions{}); err == nil {
				continue
			} else if !apierrors.IsNotFound(err) {
				return created, fmt.Errorf("reading %s %s: %w", o.GetKind(), describe(o), err)
			}
			if err := a.applyWithRetry(ctx, o, timeout); err != nil {
				return created, err
			}
			created++
		}
	}
	return created, nil
}
