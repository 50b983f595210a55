package registry

import (
	"context"
	"fmt"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/fields"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	genericapirequest "k8s.io/apiserver/pkg/endpoints/request"
	"k8s.io/apiserver/pkg/registry/generic"
	genericregistry "k8s.io/apiserver/pkg/registry/generic/registry"
	"k8s.io/apiserver/pkg/registry/rest"
	genericapiserver "k8s.io/apiserver/pkg/server"
	"k8s.io/apiserver/pkg/storage/storagebackend"
	"k8s.io/apiserver/pkg/storage/value"
	"sigs.k8s.io/structured-merge-diff/v6/fieldpath"
)

// Options configures the registry.
type Options struct {
	// Etcd is how the stores reach etcd (endpoints and client TLS).
	Etcd storagebackend.TransportConfig
	// ServiceCIDR is where ClusterIPs come from.
	ServiceCIDR string
	// Transformers encrypt values at rest, per resource (from the asset
	// dir's EncryptionConfiguration); resources without one are stored as is.
	Transformers map[schema.GroupResource]value.Transformer
}

// APIs is the built registry: what to install into a generic apiserver.
type APIs struct {
	// Legacy is the core group, installed under /api.
	Legacy *genericapiserver.APIGroupInfo
	// Groups are the named groups, installed under /apis.
	Groups []*genericapiserver.APIGroupInfo
	// Namespaces is the namespace store (for creating the system namespaces).
	Namespaces rest.Creater
}

// SystemNamespaces are created at start and cannot be deleted.
var SystemNamespaces = []string{metav1.NamespaceDefault, metav1.NamespaceSystem, metav1.NamespacePublic, corev1.NamespaceNodeLease}

// Build creates the stores of every served kind.
func Build(opts Options) (*APIs, error) {
	alloc, err := newIPAllocator(opts.ServiceCIDR)
	if err != nil {
		return nil, err
	}
	getter := &restOptionsGetter{etcd: &sharedEtcd{transport: opts.Etcd}, transformers: opts.Transformers, kinds: map[schema.GroupResource]*kindSpec{}}
	groups := map[string]*genericapiserver.APIGroupInfo{}
	var order []string
	var nsStore *genericregistry.Store
	apis := &APIs{}
	for _, k := range kinds(alloc) {
		getter.kinds[k.gv.WithResource(k.resource).GroupResource()] = k
		store, status, err := newStore(k, getter)
		if err != nil {
			return nil, fmt.Errorf("building store for %s: %w", k, err)
		}
		var main rest.Storage = &resourceREST{Store: store, short: k.shortNames, cats: k.categories}
		switch {
		case k.gv == core && k.resource == "namespaces":
			nsStore = store
			main = &namespaceREST{resourceREST: main.(*resourceREST)}
			apis.Namespaces = store
		case k.gv == core && k.resource == "services":
			alloc.lister = store
		}
		info, ok := groups[k.gv.Group]
		if !ok {
			i := genericapiserver.NewDefaultAPIGroupInfo(k.gv.Group, Scheme, ParameterCodec, Codecs)
			info = &i
			groups[k.gv.Group] = info
			order = append(order, k.gv.Group)
		}
		m := info.VersionedResourcesStorageMap[k.gv.Version]
		if m == nil {
			m = map[string]rest.Storage{}
			info.VersionedResourcesStorageMap[k.gv.Version] = m
		}
		m[k.resource] = main
		if k.gv == core && k.resource == "pods" {
			m["pods/binding"] = &bindingREST{pods: main.(*resourceREST).Store}
		}
		if status != nil {
			m[k.resource+"/status"] = status
		}
	}
	// Objects in a namespace need the namespace to exist and not be terminating,
	// as kube's NamespaceLifecycle admission enforces.
	for _, info := range groups {
		for _, m := range info.VersionedResourcesStorageMap {
			for _, s := range m {
				if r, ok := s.(*resourceREST); ok && r.Store.CreateStrategy.NamespaceScoped() {
					r.Store.BeginCreate = chainBeginCreate(namespaceExists(nsStore), r.Store.BeginCreate)
				}
			}
		}
	}
	for _, g := range order {
		if g == "" {
			apis.Legacy = groups[g]
			continue
		}
		apis.Groups = append(apis.Groups, groups[g])
	}
	return apis, nil
}

func newStore(k *kindSpec, getter generic.RESTOptionsGetter) (*genericregistry.Store, rest.Storage, error) {
	gr := k.gv.WithResource(k.resource).GroupResource()
	st := newStrategy(k, false)
	store := &genericregistry.Store{
		NewFunc:                   k.newFunc,
		NewListFunc:               k.newListFunc,
		DefaultQualifiedResource:  gr,
		SingularQualifiedResource: k.gv.WithResource(k.singular).GroupResource(),
		CreateStrategy:            st,
		UpdateStrategy:            st,
		DeleteStrategy:            st,
		ResetFieldsStrategy:       st,
		TableConvertor:            rest.NewDefaultTableConvertor(gr),
	}
	if k.beginCreate != nil {
		hook := k.beginCreate
		store.BeginCreate = func(ctx context.Context, obj runtime.Object, _ *metav1.CreateOptions) (genericregistry.FinishFunc, error) {
			return noopFinish, hook(ctx, obj)
		}
	}
	if k.afterDelete != nil {
		hook := k.afterDelete
		store.AfterDelete = func(obj runtime.Object, _ *metav1.DeleteOptions) { hook(obj) }
	}
	attrs := func(obj runtime.Object) (labels.Set, fields.Set, error) {
		m := mustAccessor(obj)
		fs := fields.Set{"metadata.name": m.GetName()}
		if k.namespaced {
			fs["metadata.namespace"] = m.GetNamespace()
		}
		if k.fields != nil {
			fs = generic.MergeFieldsSets(fs, k.fields(obj))
		}
		return labels.Set(m.GetLabels()), fs, nil
	}
	if err := store.CompleteWithOptions(&generic.StoreOptions{RESTOptions: getter, AttrFunc: attrs}); err != nil {
		return nil, nil, err
	}
	if !k.hasStatus {
		return store, nil, nil
	}
	statusStore := *store
	ss := newStrategy(k, true)
	statusStore.UpdateStrategy = ss
	statusStore.ResetFieldsStrategy = ss
	return store, &statusREST{store: &statusStore}, nil
}

func noopFinish(context.Context, bool) {}

func chainBeginCreate(first func(ctx context.Context, obj runtime.Object) error, next genericregistry.BeginCreateFunc) genericregistry.BeginCreateFunc {
	return func(ctx context.Context, obj runtime.Object, options *metav1.CreateOptions) (genericregistry.FinishFunc, error) {
		if err := first(ctx, obj); err != nil {
			return nil, err
		}
		if next == nil {
			return noopFinish, nil
		}
		return next(ctx, obj, options)
	}
}

func namespaceExists(ns *genericregistry.Store) func(ctx context.Context, obj runtime.Object) error {
	return func(ctx context.Context, obj runtime.Object) error {
		name, ok := genericapirequest.NamespaceFrom(ctx)
		if !ok || name == "" {
			return nil
		}
		o, err := ns.Get(genericapirequest.WithNamespace(ctx, ""), name, &metav1.GetOptions{})
		if err != nil {
			return err
		}
		if o.(*corev1.Namespace).Status.Phase == corev1.NamespaceTerminating {
			return apierrors.NewForbidden(corev1.Resource("namespaces"), name,
				fmt.Errorf("unable to create new content in namespace %s because it is being terminated", name))
		}
		return nil
	}
}

// resourceREST adds short names and categories to a store for discovery.
type resourceREST struct {
	*genericregistry.Store
	short, cats []string
}

func (r *resourceREST) ShortNames() []string { return r.short }
func (r *resourceREST) Categories() []string { return r.cats }

// statusREST serves the /status subresource through a store copy with the
// status strategy.
type statusREST struct{ store *genericregistry.Store }

func (r *statusREST) New() runtime.Object { return r.store.New() }
func (r *statusREST) Destroy()            {}
func (r *statusREST) Get(ctx context.Context, name string, options *metav1.GetOptions) (runtime.Object, error) {
	return r.store.Get(ctx, name, options)
}
func (r *statusREST) Update(ctx context.Context, name string, objInfo rest.UpdatedObjectInfo, createValidation rest.ValidateObjectFunc,
	updateValidation rest.ValidateObjectUpdateFunc, forceAllowCreate bool, options *metav1.UpdateOptions) (runtime.Object, bool, error) {
	// A status update never creates the object.
	return r.store.Update(ctx, name, objInfo, createValidation, updateValidation, false, options)
}
func (r *statusREST) GetResetFields() map[fieldpath.APIVersion]*fieldpath.Set {
	return r.store.GetResetFields()
}
func (r *statusREST) ConvertToTable(ctx context.Context, object runtime.Object, tableOptions runtime.Object) (*metav1.Table, error) {
	return r.store.ConvertToTable(ctx, object, tableOptions)
}
