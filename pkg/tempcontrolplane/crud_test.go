package tempcontrolplane

import (
	"context"
	"testing"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/watch"
)

type obj = map[string]any

// servedKinds is one minimal valid object of every served kind.
var servedKinds = []struct {
	gvr        schema.GroupVersionResource
	namespaced bool
	body       obj
}{
	{gvr("", "v1", "namespaces"), false, obj{}},
	{gvr("", "v1", "nodes"), false, obj{}},
	{gvr("", "v1", "pods"), true, obj{"spec": obj{"containers": []any{obj{"name": "c", "image": "registry.k8s.io/pause:3.10.2"}}}}},
	{gvr("", "v1", "services"), true, obj{"spec": obj{"ports": []any{obj{"port": int64(80)}}}}},
	{gvr("", "v1", "endpoints"), true, obj{}},
	{gvr("", "v1", "secrets"), true, obj{"data": obj{"k": "dg=="}}},
	{gvr("", "v1", "configmaps"), true, obj{"data": obj{"k": "v"}}},
	{gvr("", "v1", "serviceaccounts"), true, obj{}},
	{gvr("", "v1", "events"), true, obj{"involvedObject": obj{"kind": "Pod", "name": "p"}, "reason": "Test"}},
	{gvr("events.k8s.io", "v1", "events"), true, obj{"eventTime": "2026-11-24T20:00:00.000000Z", "reportingController": "test", "reportingInstance": "i", "action": "A", "reason": "R", "type": "Normal", "regarding": obj{"kind": "Pod", "name": "p"}}},
	{gvr("apps", "v1", "daemonsets"), true, obj{"spec": podTemplate()}},
	{gvr("apps", "v1", "deployments"), true, obj{"spec": podTemplate()}},
	{gvr("apps", "v1", "replicasets"), true, obj{"spec": podTemplate()}},
	{gvr("apps", "v1", "controllerrevisions"), true, obj{"revision": int64(1), "data": obj{"spec": obj{}}}},
	{gvr("coordination.k8s.io", "v1", "leases"), true, obj{"spec": obj{"holderIdentity": "x"}}},
	{gvr("storage.k8s.io", "v1", "csinodes"), false, obj{"spec": obj{"drivers": []any{}}}},
	{gvr("storage.k8s.io", "v1", "csidrivers"), false, obj{"spec": obj{}}},
	{gvr("node.k8s.io", "v1", "runtimeclasses"), false, obj{"handler": "runc"}},
	{gvr("rbac.authorization.k8s.io", "v1", "roles"), true, obj{"rules": []any{}}},
	{gvr("rbac.authorization.k8s.io", "v1", "rolebindings"), true, obj{"roleRef": obj{"kind": "Role", "name": "r", "apiGroup": "rbac.authorization.k8s.io"}}},
	{gvr("rbac.authorization.k8s.io", "v1", "clusterroles"), false, obj{"rules": []any{}}},
	{gvr("rbac.authorization.k8s.io", "v1", "clusterrolebindings"), false, obj{"roleRef": obj{"kind": "ClusterRole", "name": "r", "apiGroup": "rbac.authorization.k8s.io"}}},
	{gvr("policy", "v1", "poddisruptionbudgets"), true, obj{"spec": obj{"minAvailable": int64(1)}}},
	{gvr("scheduling.k8s.io", "v1", "priorityclasses"), false, obj{"value": int64(1000)}},
	{gvr("discovery.k8s.io", "v1", "endpointslices"), true, obj{"addressType": "IPv4", "endpoints": []any{}}},
}

func gvr(g, v, r string) schema.GroupVersionResource {
	return schema.GroupVersionResource{Group: g, Version: v, Resource: r}
}

func podTemplate() obj {
	return obj{
		"selector": obj{"matchLabels": obj{"app": "x"}},
		"template": obj{
			"metadata": obj{"labels": obj{"app": "x"}},
			"spec":     obj{"containers": []any{obj{"name": "c", "image": "registry.k8s.io/pause:3.10.2"}}},
		},
	}
}

func kindOf(r schema.GroupVersionResource) string {
	for _, k := range []struct{ r, k string }{
		{"namespaces", "Namespace"}, {"nodes", "Node"}, {"pods", "Pod"}, {"services", "Service"}, {"endpoints", "Endpoints"},
		{"secrets", "Secret"}, {"configmaps", "ConfigMap"}, {"serviceaccounts", "ServiceAccount"}, {"events", "Event"},
		{"daemonsets", "DaemonSet"}, {"controllerrevisions", "ControllerRevision"}, {"deployments", "Deployment"}, {"replicasets", "ReplicaSet"}, {"leases", "Lease"},
		{"csinodes", "CSINode"}, {"csidrivers", "CSIDriver"}, {"runtimeclasses", "RuntimeClass"}, {"roles", "Role"},
		{"rolebindings", "RoleBinding"}, {"clusterroles", "ClusterRole"}, {"clusterrolebindings", "ClusterRoleBinding"},
		{"poddisruptionbudgets", "PodDisruptionBudget"}, {"priorityclasses", "PriorityClass"}, {"endpointslices", "EndpointSlice"},
	} {
		if k.r == r.Resource {
			return k.k
		}
	}
	return ""
}

func newObject(r schema.GroupVersionResource, name, ns string, body obj) *unstructured.Unstructured {
	u := &unstructured.Unstructured{Object: map[string]any{}}
	for k, v := range body {
		u.Object[k] = runtimeDeepCopy(v)
	}
	u.SetAPIVersion(schema.GroupVersion{Group: r.Group, Version: r.Version}.String())
	u.SetKind(kindOf(r))
	u.SetName(name)
	if ns != "" {
		u.SetNamespace(ns)
	}
	return u
}

func runtimeDeepCopy(v any) any {
	return (&unstructured.Unstructured{Object: map[string]any{"v": v}}).DeepCopy().Object["v"]
}

// TestCRUDAndWatch creates, reads, lists, watches, updates and deletes one
// object of every served kind.
func TestCRUDAndWatch(t *testing.T) {
	cp := shared
	ns := newNamespace(t, cp)
	ctx := context.Background()
	for _, k := range servedKinds {
		t.Run(k.gvr.Group+"/"+k.gvr.Resource, func(t *testing.T) {
			name := "crud-" + k.gvr.Resource
			if k.gvr.Group != "" {
				name += "-" + k.gvr.Group
			}
			objNS := ""
			var ri = cp.dyn.Resource(k.gvr)
			var c interface {
				Create(context.Context, *unstructured.Unstructured, metav1.CreateOptions, ...string) (*unstructured.Unstructured, error)
			} = ri
			if k.namespaced {
				objNS = ns
				c = ri.Namespace(ns)
			}
			nri := ri.Namespace(objNS)
			if !k.namespaced {
				nri = ri
			}
			w, err := nri.Watch(ctx, metav1.ListOptions{FieldSelector: "metadata.name=" + name})
			if err != nil {
				t.Fatalf("watch: %v", err)
			}
			defer w.Stop()

			created, err := c.Create(ctx, newObject(k.gvr, name, objNS, k.body), metav1.CreateOptions{})
			if err != nil {
				t.Fatalf("create: %v", err)
			}
			if created.GetUID() == "" || created.GetResourceVersion() == "" {
				t.Fatalf("create returned no uid/resourceVersion: %v", created.Object)
			}
			expectEvent(t, w, watch.Added, name)

			got, err := nri.Get(ctx, name, metav1.GetOptions{})
			if err != nil {
				t.Fatalf("get: %v", err)
			}
			got.SetLabels(map[string]string{"updated": "yes"})
			if _, err := nri.Update(ctx, got, metav1.UpdateOptions{}); err != nil {
				t.Fatalf("update: %v", err)
			}
			expectEvent(t, w, watch.Modified, name)

			list, err := nri.List(ctx, metav1.ListOptions{LabelSelector: "updated=yes"})
			if err != nil {
				t.Fatalf("list: %v", err)
			}
			found := false
			for _, it := range list.Items {
				found = found || it.GetName() == name
			}
			if !found {
				t.Fatalf("list by label did not return %s", name)
			}
			if k.gvr.Resource == "namespaces" {
				return // deletion is covered by TestNamespaceLifecycle
			}
			if err := nri.Delete(ctx, name, metav1.DeleteOptions{GracePeriodSeconds: new(int64)}); err != nil {
				t.Fatalf("delete: %v", err)
			}
			expectEvent(t, w, watch.Deleted, name)
			if _, err := nri.Get(ctx, name, metav1.GetOptions{}); !apierrors.IsNotFound(err) {
				t.Fatalf("get after delete: want NotFound, got %v", err)
			}
		})
	}
}

func expectEvent(t *testing.T, w watch.Interface, typ watch.EventType, name string) {
	t.Helper()
	timeout := time.After(10 * time.Second)
	for {
		select {
		case ev, ok := <-w.ResultChan():
			if !ok {
				t.Fatalf("watch closed while waiting for %s %s", typ, name)
			}
			u, isU := ev.Object.(*unstructured.Unstructured)
			if ev.Type == typ && isU && u.GetName() == name {
				return
			}
		case <-timeout:
			t.Fatalf("no %s event for %s within 10s", typ, name)
		}
	}
}
