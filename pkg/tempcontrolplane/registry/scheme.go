package registry

import (
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
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/runtime/serializer"
	utilruntime "k8s.io/apimachinery/pkg/util/runtime"
)

// Scheme knows every served type twice: as its v1 version and as the
// "__internal" version. k8s.io/apiserver converts requests to an internal hub
// version; serving the typed k8s.io/api structs as their own hub (a
// self-conversion that is just a deep copy) avoids writing internal types.
var Scheme = runtime.NewScheme()

// PublicScheme holds only the real versions. The OpenAPI definition namer uses
// it so that no "__internal" group-version-kind shows up in the published spec.
var PublicScheme = runtime.NewScheme()

// Codecs serialises for the API and for storage.
var Codecs = serializer.NewCodecFactory(Scheme)

// ParameterCodec decodes query parameters (options) of every group.
var ParameterCodec = runtime.NewParameterCodec(Scheme)

var adders = []func(*runtime.Scheme) error{
	corev1.AddToScheme, appsv1.AddToScheme, coordinationv1.AddToScheme, storagev1.AddToScheme,
	nodev1.AddToScheme, rbacv1.AddToScheme, policyv1.AddToScheme, schedulingv1.AddToScheme,
	discoveryv1.AddToScheme, eventsv1.AddToScheme,
}

func init() {
	for _, add := range adders {
		utilruntime.Must(add(Scheme))
		utilruntime.Must(add(PublicScheme))
	}
	for _, gv := range Scheme.PrioritizedVersionsAllGroups() {
		internal := schema.GroupVersion{Group: gv.Group, Version: runtime.APIVersionInternal}
		for kind, t := range Scheme.KnownTypes(gv) {
			// Only API objects, not the metav1 option types each group also registers.
			if t.PkgPath() == "k8s.io/apimachinery/pkg/apis/meta/v1" {
				continue
			}
			obj, ok := runtimeNew(t)
			if !ok {
				continue
			}
			Scheme.AddKnownTypeWithName(internal.WithKind(kind), obj)
		}
	}
	// The generic server looks these up in the core group's empty version.
	unversioned := schema.GroupVersion{Group: "", Version: "v1"}
	Scheme.AddUnversionedTypes(unversioned, &metav1.Status{}, &metav1.APIVersions{}, &metav1.APIGroupList{}, &metav1.APIGroup{}, &metav1.APIResourceList{})

	utilruntime.Must(addFieldLabelConversions(Scheme))
	utilruntime.Must(addEventConversions(Scheme))
	addDefaultingFuncs(Scheme)
}

// addFieldLabelConversions lists the field selectors kube-apiserver accepts
// for the served kinds; anything else gets kube's "field label not supported".
func addFieldLabelConversions(s *runtime.Scheme) error {
	fields := map[schema.GroupVersionKind][]string{
		corev1.SchemeGroupVersion.WithKind("Pod"): {"spec.nodeName", "spec.restartPolicy", "spec.schedulerName",
			"spec.serviceAccountName", "spec.hostNetwork", "status.phase", "status.podIP", "status.podIPs", "status.nominatedNodeName"},
		corev1.SchemeGroupVersion.WithKind("Node"):      {"spec.unschedulable"},
		corev1.SchemeGroupVersion.WithKind("Secret"):    {"type"},
		corev1.SchemeGroupVersion.WithKind("Service"):   {"spec.clusterIP", "spec.type"},
		corev1.SchemeGroupVersion.WithKind("Namespace"): {"status.phase"},
		corev1.SchemeGroupVersion.WithKind("Event"): {"involvedObject.kind", "involvedObject.namespace", "involvedObject.name",
			"involvedObject.uid", "involvedObject.apiVersion", "involvedObject.resourceVersion", "involvedObject.fieldPath",
			"reason", "reportingComponent", "source", "type"},
	}
	for gvk, extra := range fields {
		allowed := map[string]bool{"metadata.name": true, "metadata.namespace": true}
		for _, f := range extra {
			allowed[f] = true
		}
		if err := s.AddFieldLabelConversionFunc(gvk, func(label, value string) (string, string, error) {
			if allowed[label] {
				return label, value, nil
			}
			return "", "", fmt.Errorf("field label not supported: %s", label)
		}); err != nil {
			return err
		}
	}
	return nil
}
