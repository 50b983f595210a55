package registry

import (
	"strconv"
	"strings"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/equality"
	"k8s.io/apimachinery/pkg/fields"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/util/validation/field"
)

func podKind() *kindSpec {
	return &kindSpec{
		gv: core, resource: "pods", singular: "pod", kind: "Pod", namespaced: true,
		newFunc: newOf[corev1.Pod](), newListFunc: newOf[corev1.PodList](),
		shortNames: []string{"po"}, categories: []string{"all"},
		hasStatus: true, generation: true, fields: podFields,
		prepareCreate: func(obj runtime.Object) {
			p := obj.(*corev1.Pod)
			// A new pod is Pending with its QoS class, whatever the client sent.
			p.Status = corev1.PodStatus{Phase: corev1.PodPending, QOSClass: podQOS(p)}
			if len(p.Spec.SchedulingGates) > 0 {
				p.Status.Conditions = []corev1.PodCondition{{Type: corev1.PodScheduled, Status: corev1.ConditionFalse, Reason: corev1.PodReasonSchedulingGated, Message: "Scheduling is blocked due to non-empty scheduling gates"}}
			}
		},
		prepareStatusUpdate: func(obj, old runtime.Object) {
			// The kubelet may not clear or set the deletion timestamp through status.
			obj.(*corev1.Pod).DeletionTimestamp = old.(*corev1.Pod).DeletionTimestamp
		},
		validate:       validatePod,
		gracefulDelete: podGracefulDelete,
	}
}

func podFields(obj runtime.Object) fields.Set {
	p := obj.(*corev1.Pod)
	ips := make([]string, 0, len(p.Status.PodIPs))
	for _, ip := range p.Status.PodIPs {
		ips = append(ips, ip.IP)
	}
	return fields.Set{
		"spec.nodeName":            p.Spec.NodeName,
		"spec.restartPolicy":       string(p.Spec.RestartPolicy),
		"spec.schedulerName":       p.Spec.SchedulerName,
		"spec.serviceAccountName":  p.Spec.ServiceAccountName,
		"spec.hostNetwork":         strconv.FormatBool(p.Spec.HostNetwork),
		"status.phase":             string(p.Status.Phase),
		"status.podIP":             p.Status.PodIP,
		"status.podIPs":            strings.Join(ips, ","),
		"status.nominatedNodeName": p.Status.NominatedNodeName,
	}
}

// validatePod checks what the kubelet relies on; full upstream pod validation
// is out of scope for a bootstrap apiserver fed by rendered manifests.
func validatePod(obj runtime.Object) field.ErrorList {
	p := obj.(*corev1.Pod)
	var errs field.ErrorList
	if len(p.Spec.Containers) == 0 {
		errs = append(errs, field.Required(field.NewPath("spec", "containers"), ""))
	}
	seen := map[string]bool{}
	for i, c := range append(append([]corev1.Container{}, p.Spec.InitContainers...), p.Spec.Containers...) {
		fp := field.NewPath("spec", "containers").Index(i)
		if c.Name == "" {
			errs = append(errs, field.Required(fp.Child("name"), ""))
		} else if seen[c.Name] {
			errs = append(errs, field.Duplicate(fp.Child("name"), c.Name))
		}
		seen[c.Name] = true
		if c.Image == "" {
			errs = append(errs, field.Required(fp.Child("image"), ""))
		}
	}
	return errs
}

// podGracefulDelete mirrors kube: the pod's grace period unless the request
// gives one; immediate for unscheduled or finished pods.
func podGracefulDelete(obj runtime.Object, options *metavDeleteOptions) bool {
	if options == nil {
		return false
	}
	p := obj.(*corev1.Pod)
	period := int64(corev1.DefaultTerminationGracePeriodSeconds)
	if p.Spec.TerminationGracePeriodSeconds != nil {
		period = *p.Spec.TerminationGracePeriodSeconds
	}
	if options.GracePeriodSeconds != nil {
		period = *options.GracePeriodSeconds
	}
	if p.Spec.NodeName == "" || p.Status.Phase == corev1.PodFailed || p.Status.Phase == corev1.PodSucceeded {
		period = 0
	}
	options.GracePeriodSeconds = &period
	return true
}

// podQOS computes the QoS class from cpu and memory requests and limits the
// way the kubelet does: Guaranteed when every container's limits are set and
// equal its requests, BestEffort when nothing is set, else Burstable.
func podQOS(p *corev1.Pod) corev1.PodQOSClass {
	any, guaranteed := false, true
	for _, c := range append(append([]corev1.Container{}, p.Spec.InitContainers...), p.Spec.Containers...) {
		for _, r := range []corev1.ResourceName{corev1.ResourceCPU, corev1.ResourceMemory} {
			req, hasReq := c.Resources.Requests[r]
			lim, hasLim := c.Resources.Limits[r]
			if (hasReq && !req.IsZero()) || (hasLim && !lim.IsZero()) {
				any = true
			}
			if !hasLim || lim.IsZero() || (hasReq && req.Cmp(lim) != 0) {
				guaranteed = false
			}
		}
	}
	switch {
	case !any:
		return corev1.PodQOSBestEffort
	case guaranteed:
		return corev1.PodQOSGuaranteed
	}
	return corev1.PodQOSBurstable
}

// templateGenerationAnnotation is how apps/v1 DaemonSets expose kube's
// internal TemplateGeneration; the DaemonSet controller hashes pods with it.
const templateGenerationAnnotation = "deprecated.daemonset.template.generation"

func daemonSetKind() *kindSpec {
	return &kindSpec{
		gv: apps, resource: "daemonsets", singular: "daemonset", kind: "DaemonSet", namespaced: true,
		newFunc: newOf[appsv1.DaemonSet](), newListFunc: newOf[appsv1.DaemonSetList](),
		shortNames: []string{"ds"}, categories: []string{"all"},
		hasStatus: true, clearStatusOnCreate: true, generation: true,
		prepareCreate: func(obj runtime.Object) {
			ds := obj.(*appsv1.DaemonSet)
			if ds.Annotations == nil {
				ds.Annotations = map[string]string{}
			}
			ds.Annotations[templateGenerationAnnotation] = "1"
		},
		prepareUpdate: func(obj, old runtime.Object) {
			ds, oldDS := obj.(*appsv1.DaemonSet), old.(*appsv1.DaemonSet)
			gen, _ := strconv.ParseInt(oldDS.Annotations[templateGenerationAnnotation], 10, 64)
			if !equality.Semantic.DeepEqual(ds.Spec.Template, oldDS.Spec.Template) {
				gen++
			}
			if ds.Annotations == nil {
				ds.Annotations = map[string]string{}
			}
			if gen > 0 {
				ds.Annotations[templateGenerationAnnotation] = strconv.FormatInt(gen, 10)
			}
		},
	}
}

func namespaceKind() *kindSpec {
	return &kindSpec{
		gv: core, resource: "namespaces", singular: "namespace", kind: "Namespace",
		newFunc: newOf[corev1.Namespace](), newListFunc: newOf[corev1.NamespaceList](),
		shortNames: []string{"ns"}, names: nameDNSLabel, hasStatus: true,
		fields: func(obj runtime.Object) fields.Set {
			return fields.Set{"status.phase": string(obj.(*corev1.Namespace).Status.Phase)}
		},
		prepareCreate: func(obj runtime.Object) {
			ns := obj.(*corev1.Namespace)
			// The namespace controller of the real control plane finalizes deletion.
			hasKube := false
			for _, f := range ns.Spec.Finalizers {
				hasKube = hasKube || f == corev1.FinalizerKubernetes
			}
			if !hasKube {
				ns.Spec.Finalizers = append(ns.Spec.Finalizers, corev1.FinalizerKubernetes)
			}
			ns.Status = corev1.NamespaceStatus{Phase: corev1.NamespaceActive}
		},
		prepareUpdate: func(obj, old runtime.Object) {
			// Finalizers change only through namespaces/finalize in kube.
			obj.(*corev1.Namespace).Spec.Finalizers = old.(*corev1.Namespace).Spec.Finalizers
		},
	}
}
