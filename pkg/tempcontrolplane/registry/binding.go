package registry

import (
	"context"
	"fmt"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/util/validation/field"
	genericregistry "k8s.io/apiserver/pkg/registry/generic/registry"
	"k8s.io/apiserver/pkg/registry/rest"
	"k8s.io/apiserver/pkg/storage"
)

// bindingREST serves pods/binding: during the hand-over both apiservers
// share the port, so the self-hosted scheduler may bind a pod through this
// one. Semantics as kube's: only an unbound, not deleting, ungated pod is
// bound, and its PodScheduled condition becomes True.
type bindingREST struct{ pods *genericregistry.Store }

var _ rest.NamedCreater = &bindingREST{}

func (r *bindingREST) New() runtime.Object   { return &corev1.Binding{} }
func (r *bindingREST) Destroy()              {}
func (r *bindingREST) NamespaceScoped() bool { return true }

func (r *bindingREST) Create(ctx context.Context, name string, obj runtime.Object, createValidation rest.ValidateObjectFunc, _ *metav1.CreateOptions) (runtime.Object, error) {
	b, ok := obj.(*corev1.Binding)
	if !ok {
		return nil, apierrors.NewBadRequest(fmt.Sprintf("not a Binding: %T", obj))
	}
	if b.Name != name {
		return nil, apierrors.NewBadRequest("name in URL does not match name in Binding object")
	}
	if b.Target.Name == "" || (b.Target.Kind != "" && b.Target.Kind != "Node") {
		return nil, apierrors.NewInvalid(corev1.SchemeGroupVersion.WithKind("Binding").GroupKind(), name,
			field.ErrorList{field.Invalid(field.NewPath("target"), b.Target, "must name a Node")})
	}
	if createValidation != nil {
		if err := createValidation(ctx, b.DeepCopyObject()); err != nil {
			return nil, err
		}
	}
	key, err := r.pods.KeyFunc(ctx, name)
	if err != nil {
		return nil, err
	}
	var pre *storage.Preconditions
	if b.UID != "" {
		pre = &storage.Preconditions{UID: &b.UID}
	}
	err = r.pods.Storage.GuaranteedUpdate(ctx, key, &corev1.Pod{}, false, pre, func(existing runtime.Object, _ storage.ResponseMeta) (runtime.Object, *uint64, error) {
		p := existing.(*corev1.Pod)
		switch {
		case p.DeletionTimestamp != nil:
			return nil, nil, fmt.Errorf("pod %s is being deleted, cannot be assigned to a host", name)
		case p.Spec.NodeName != "":
			return nil, nil, fmt.Errorf("pod %s is already assigned to node %q", name, p.Spec.NodeName)
		case len(p.Spec.SchedulingGates) > 0:
			return nil, nil, fmt.Errorf("pod %s has non-empty .spec.schedulingGates", name)
		}
		p.Spec.NodeName = b.Target.Name
		for k, v := range b.Annotations {
			if p.Annotations == nil {
				p.Annotations = map[string]string{}
			}
			p.Annotations[k] = v
		}
		cond := corev1.PodCondition{Type: corev1.PodScheduled, Status: corev1.ConditionTrue, LastTransitionTime: metav1.Now()}
		replaced := false
		for i := range p.Status.Conditions {
			if p.Status.Conditions[i].Type == corev1.PodScheduled {
				p.Status.Conditions[i], replaced = cond, true
			}
		}
		if !replaced {
			p.Status.Conditions = append(p.Status.Conditions, cond)
		}
		return p, nil, nil
	}, false, nil)
	if err != nil {
		if apierrors.IsNotFound(err) || apierrors.IsConflict(err) {
			return nil, err
		}
		return nil, apierrors.NewConflict(corev1.Resource("pods/binding"), name, err)
	}
	return &metav1.Status{Status: metav1.StatusSuccess}, nil
}
