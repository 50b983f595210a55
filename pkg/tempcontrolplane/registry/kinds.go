package registry

import (
	"context"
	"fmt"

	appsv1 "k8s.io/api/apps/v1"
	coordinationv1 "k8s.io/api/coordination/v1"
	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	eventsv1 "k8s.io/api/events/v1"
	nodev1 "k8s.io/api/node/v1"
	policyv1 "k8s.io/api/policy/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	schedulingv1 "k8s.io/api/scheduling/v1"
	storagev1 "k8s.io/api/storage/v1"
	"k8s.io/apimachinery/pkg/fields"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/util/validation/field"
)

// kindSpec describes one served resource: its names, its storage location and
// which of kube-apiserver's strategy behaviours it has.
type kindSpec struct {
	gv                   schema.GroupVersion
	resource, singular   string
	kind                 string
	namespaced           bool
	newFunc, newListFunc func() runtime.Object
	shortNames           []string
	categories           []string
	names                nameValidation

	// storagePrefix is the key segment under /registry (kube's special
	// prefixes: minions, services/specs, services/endpoints); default resource.
	storagePrefix string
	// storageGV is the version objects are written as; default gv. events.k8s.io
	// events are written as core/v1 Events, like kube does.
	storageGV *schema.GroupVersion

	hasStatus           bool // a /status subresource; the main endpoint keeps the old status
	clearStatusOnCreate bool // status is reset on create (controllers own it)
	generation          bool // metadata.generation 1 on create, +1 on spec change
	createOnUpdate      bool // PUT may create (leases, nodes, endpoints... as in kube)

	// fields adds kind-specific selectable fields to metadata.name/namespace.
	fields func(obj runtime.Object) fields.Set

	prepareCreate       func(obj runtime.Object)
	prepareUpdate       func(obj, old runtime.Object)
	prepareStatusUpdate func(obj, old runtime.Object)
	validate            func(obj runtime.Object) field.ErrorList
	gracefulDelete      func(obj runtime.Object, options *metavDeleteOptions) bool
	beginCreate         func(ctx context.Context, obj runtime.Object) error
	validateUpdate      func(obj, old runtime.Object) field.ErrorList
	afterDelete         func(obj runtime.Object)
}

func (k *kindSpec) gvk() schema.GroupVersionKind { return k.gv.WithKind(k.kind) }

func (k *kindSpec) String() string { return fmt.Sprintf("%s.%s", k.resource, k.gv.Group) }

var (
	core        = corev1.SchemeGroupVersion
	apps        = appsv1.SchemeGroupVersion
	coordGV     = coordinationv1.SchemeGroupVersion
	storageGV   = storagev1.SchemeGroupVersion
	nodeGV      = nodev1.SchemeGroupVersion
	rbacGV      = rbacv1.SchemeGroupVersion
	policyGV    = policyv1.SchemeGroupVersion
	schedGV     = schedulingv1.SchemeGroupVersion
	discoveryGV = discoveryv1.SchemeGroupVersion
	eventsGV    = eventsv1.SchemeGroupVersion
)

func newOf[T any, PT interface {
	*T
	runtime.Object
}]() func() runtime.Object {
	return func() runtime.Object { return PT(new(T)) }
}

// kinds lists everything the temporary apiserver serves, in discovery order.
func kinds(services *ipAllocator) []*kindSpec {
	return []*kindSpec{
		namespaceKind(),
		{gv: core, resource: "nodes", singular: "node", kind: "Node", newFunc: newOf[corev1.Node](), newListFunc: newOf[corev1.NodeList](),
			shortNames: []string{"no"}, storagePrefix: "minions", hasStatus: true, createOnUpdate: false, fields: nodeFields},
		podKind(),
		serviceKind(services),
		{gv: core, resource: "endpoints", singular: "endpoints", kind: "Endpoints", namespaced: true, newFunc: newOf[corev1.Endpoints](),
			newListFunc: newOf[corev1.EndpointsList](), shortNames: []string{"ep"}, storagePrefix: "services/endpoints", createOnUpdate: true},
		{gv: core, resource: "secrets", singular: "secret", kind: "Secret", namespaced: true, newFunc: newOf[corev1.Secret](),
			newListFunc: newOf[corev1.SecretList](), fields: secretFields},
		{gv: core, resource: "configmaps", singular: "configmap", kind: "ConfigMap", namespaced: true, newFunc: newOf[corev1.ConfigMap](),
			newListFunc: newOf[corev1.ConfigMapList](), shortNames: []string{"cm"}},
		{gv: core, resource: "serviceaccounts", singular: "serviceaccount", kind: "ServiceAccount", namespaced: true,
			newFunc: newOf[corev1.ServiceAccount](), newListFunc: newOf[corev1.ServiceAccountList](), shortNames: []string{"sa"}},
		{gv: core, resource: "events", singular: "event", kind: "Event", namespaced: true, newFunc: newOf[corev1.Event](),
			newListFunc: newOf[corev1.EventList](), shortNames: []string{"ev"}, createOnUpdate: true, names: namePathSegment, fields: eventFields},
		{gv: eventsGV, resource: "events", singular: "event", kind: "Event", namespaced: true, newFunc: newOf[eventsv1.Event](),
			newListFunc: newOf[eventsv1.EventList](), shortNames: []string{"ev"}, createOnUpdate: true, names: namePathSegment, storageGV: &core},

		daemonSetKind(),
		{gv: apps, resource: "deployments", singular: "deployment", kind: "Deployment", namespaced: true, newFunc: newOf[appsv1.Deployment](),
			newListFunc: newOf[appsv1.DeploymentList](), shortNames: []string{"deploy"}, categories: []string{"all"},
			hasStatus: true, clearStatusOnCreate: true, generation: true},
		{gv: apps, resource: "replicasets", singular: "replicaset", kind: "ReplicaSet", namespaced: true, newFunc: newOf[appsv1.ReplicaSet](),
			newListFunc: newOf[appsv1.ReplicaSetList](), shortNames: []string{"rs"}, categories: []string{"all"},
			hasStatus: true, clearStatusOnCreate: true, generation: true},

		// The DaemonSet controller keeps its template history here.
		{gv: apps, resource: "controllerrevisions", singular: "controllerrevision", kind: "ControllerRevision", namespaced: true,
			newFunc: newOf[appsv1.ControllerRevision](), newListFunc: newOf[appsv1.ControllerRevisionList]()},

		{gv: coordGV, resource: "leases", singular: "lease", kind: "Lease", namespaced: true, newFunc: newOf[coordinationv1.Lease](),
			newListFunc: newOf[coordinationv1.LeaseList]()},
		{gv: storageGV, resource: "csinodes", singular: "csinode", kind: "CSINode", newFunc: newOf[storagev1.CSINode](),
			newListFunc: newOf[storagev1.CSINodeList]()},
		{gv: storageGV, resource: "csidrivers", singular: "csidriver", kind: "CSIDriver", newFunc: newOf[storagev1.CSIDriver](),
			newListFunc: newOf[storagev1.CSIDriverList]()},
		{gv: nodeGV, resource: "runtimeclasses", singular: "runtimeclass", kind: "RuntimeClass", newFunc: newOf[nodev1.RuntimeClass](),
			newListFunc: newOf[nodev1.RuntimeClassList]()},

		{gv: rbacGV, resource: "roles", singular: "role", kind: "Role", namespaced: true, newFunc: newOf[rbacv1.Role](),
			newListFunc: newOf[rbacv1.RoleList](), names: namePathSegment, createOnUpdate: true},
		{gv: rbacGV, resource: "rolebindings", singular: "rolebinding", kind: "RoleBinding", namespaced: true, newFunc: newOf[rbacv1.RoleBinding](),
			newListFunc: newOf[rbacv1.RoleBindingList](), names: namePathSegment, createOnUpdate: true},
		{gv: rbacGV, resource: "clusterroles", singular: "clusterrole", kind: "ClusterRole", newFunc: newOf[rbacv1.ClusterRole](),
			newListFunc: newOf[rbacv1.ClusterRoleList](), names: namePathSegment, createOnUpdate: true},
		{gv: rbacGV, resource: "clusterrolebindings", singular: "clusterrolebinding", kind: "ClusterRoleBinding", newFunc: newOf[rbacv1.ClusterRoleBinding](),
			newListFunc: newOf[rbacv1.ClusterRoleBindingList](), names: namePathSegment, createOnUpdate: true},

		{gv: policyGV, resource: "poddisruptionbudgets", singular: "poddisruptionbudget", kind: "PodDisruptionBudget", namespaced: true,
			newFunc: newOf[policyv1.PodDisruptionBudget](), newListFunc: newOf[policyv1.PodDisruptionBudgetList](), shortNames: []string{"pdb"},
			hasStatus: true, clearStatusOnCreate: true, generation: true},
		{gv: schedGV, resource: "priorityclasses", singular: "priorityclass", kind: "PriorityClass", newFunc: newOf[schedulingv1.PriorityClass](),
			newListFunc: newOf[schedulingv1.PriorityClassList](), shortNames: []string{"pc"}},
		{gv: discoveryGV, resource: "endpointslices", singular: "endpointslice", kind: "EndpointSlice", namespaced: true,
			newFunc: newOf[discoveryv1.EndpointSlice](), newListFunc: newOf[discoveryv1.EndpointSliceList](), generation: true},
	}
}

func nodeFields(obj runtime.Object) fields.Set {
	n := obj.(*corev1.Node)
	return fields.Set{"spec.unschedulable": fmt.Sprint(n.Spec.Unschedulable)}
}

func secretFields(obj runtime.Object) fields.Set {
	return fields.Set{"type": string(obj.(*corev1.Secret).Type)}
}

func eventFields(obj runtime.Object) fields.Set {
	e := obj.(*corev1.Event)
	source := e.Source.Component
	if source == "" {
		source = e.ReportingController
	}
	return fields.Set{
		"involvedObject.kind":            e.InvolvedObject.Kind,
		"involvedObject.namespace":       e.InvolvedObject.Namespace,
		"involvedObject.name":            e.InvolvedObject.Name,
		"involvedObject.uid":             string(e.InvolvedObject.UID),
		"involvedObject.apiVersion":      e.InvolvedObject.APIVersion,
		"involvedObject.resourceVersion": e.InvolvedObject.ResourceVersion,
		"involvedObject.fieldPath":       e.InvolvedObject.FieldPath,
		"reason":                         e.Reason,
		"reportingComponent":             e.ReportingController,
		"source":                         source,
		"type":                           e.Type,
	}
}
