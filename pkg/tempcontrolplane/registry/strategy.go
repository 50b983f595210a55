package registry

import (
	"context"
	"reflect"

	"k8s.io/apimachinery/pkg/api/equality"
	"k8s.io/apimachinery/pkg/api/meta"
	apimachineryvalidation "k8s.io/apimachinery/pkg/api/validation"
	"k8s.io/apimachinery/pkg/api/validation/path"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/util/validation/field"
	"k8s.io/apiserver/pkg/registry/rest"
	"k8s.io/apiserver/pkg/storage/names"
	"sigs.k8s.io/structured-merge-diff/v6/fieldpath"
)

// nameValidation picks kube's name rule for a kind.
type nameValidation int

const (
	nameDNSSubdomain nameValidation = iota
	nameDNSLabel
	namePathSegment
)

func (n nameValidation) fn() apimachineryvalidation.ValidateNameFunc {
	switch n {
	case nameDNSLabel:
		return apimachineryvalidation.NameIsDNSLabel
	case namePathSegment:
		return func(name string, prefix bool) []string { return path.IsValidPathSegmentName(name) }
	}
	return apimachineryvalidation.NameIsDNSSubdomain
}

// strategy is one generic create/update/delete strategy parameterised by a
// kind's Spec: which of kube's behaviours apply to it. Behaviour that needs
// code (pods, DaemonSets, namespaces) plugs in through the hook funcs.
type strategy struct {
	runtime.ObjectTyper
	names.NameGenerator

	spec *kindSpec
	// statusOnly is the strategy of the /status subresource.
	statusOnly bool
}

func newStrategy(k *kindSpec, statusOnly bool) *strategy {
	return &strategy{ObjectTyper: Scheme, NameGenerator: names.SimpleNameGenerator, spec: k, statusOnly: statusOnly}
}

func (s *strategy) NamespaceScoped() bool { return s.spec.namespaced }

func (s *strategy) PrepareForCreate(ctx context.Context, obj runtime.Object) {
	if s.spec.clearStatusOnCreate {
		setField(obj, "Status", reflect.Zero(fieldType(obj, "Status")))
	}
	if s.spec.generation {
		mustAccessor(obj).SetGeneration(1)
	}
	if s.spec.prepareCreate != nil {
		s.spec.prepareCreate(obj)
	}
}

func (s *strategy) PrepareForUpdate(ctx context.Context, obj, old runtime.Object) {
	if s.statusOnly {
		// The status endpoint changes status (and labels/annotations, as kube
		// allows) but never spec or owner references.
		status := getField(obj, "Status")
		objMeta, oldMeta := mustAccessor(obj), mustAccessor(old)
		labels, annotations := objMeta.GetLabels(), objMeta.GetAnnotations()
		copyInto(obj, old)
		setField(obj, "Status", status)
		objMeta.SetLabels(labels)
		objMeta.SetAnnotations(annotations)
		objMeta.SetOwnerReferences(oldMeta.GetOwnerReferences())
		if s.spec.prepareStatusUpdate != nil {
			s.spec.prepareStatusUpdate(obj, old)
		}
		return
	}
	if s.spec.hasStatus {
		setField(obj, "Status", getField(old, "Status"))
	}
	if s.spec.generation && hasField(obj, "Spec") {
		oldGen := mustAccessor(old).GetGeneration()
		if !equality.Semantic.DeepEqual(getField(obj, "Spec").Interface(), getField(old, "Spec").Interface()) {
			mustAccessor(obj).SetGeneration(oldGen + 1)
		} else {
			mustAccessor(obj).SetGeneration(oldGen)
		}
	}
	if s.spec.prepareUpdate != nil {
		s.spec.prepareUpdate(obj, old)
	}
}

func (s *strategy) Validate(ctx context.Context, obj runtime.Object) field.ErrorList {
	errs := apimachineryvalidation.ValidateObjectMetaAccessor(mustAccessor(obj), s.spec.namespaced, s.spec.names.fn(), field.NewPath("metadata"))
	if s.spec.validate != nil {
		errs = append(errs, s.spec.validate(obj)...)
	}
	return errs
}

func (s *strategy) ValidateUpdate(ctx context.Context, obj, old runtime.Object) field.ErrorList {
	errs := apimachineryvalidation.ValidateObjectMetaAccessorUpdate(mustAccessor(obj), mustAccessor(old), field.NewPath("metadata"))
	errs = append(errs, apimachineryvalidation.ValidateObjectMetaAccessor(mustAccessor(obj), s.spec.namespaced, s.spec.names.fn(), field.NewPath("metadata"))...)
	if s.spec.validate != nil && !s.statusOnly {
		errs = append(errs, s.spec.validate(obj)...)
	}
	if s.spec.validateUpdate != nil && !s.statusOnly {
		errs = append(errs, s.spec.validateUpdate(obj, old)...)
	}
	return errs
}

func (s *strategy) WarningsOnCreate(ctx context.Context, obj runtime.Object) []string { return nil }
func (s *strategy) WarningsOnUpdate(ctx context.Context, obj, old runtime.Object) []string {
	return nil
}
func (s *strategy) Canonicalize(obj runtime.Object)              {}
func (s *strategy) AllowCreateOnUpdate(ctx context.Context) bool { return s.spec.createOnUpdate }
func (s *strategy) AllowUnconditionalUpdate(ctx context.Context) bool {
	return true
}

// CheckGracefulDelete is only consulted for kinds with a graceful hook (pods).
func (s *strategy) CheckGracefulDelete(ctx context.Context, obj runtime.Object, options *metavDeleteOptions) bool {
	if s.spec.gracefulDelete == nil {
		return false
	}
	return s.spec.gracefulDelete(obj, options)
}

// GetResetFields tells server-side apply which fields an endpoint ignores:
// the main resource never sets status, the status subresource never spec.
func (s *strategy) GetResetFields() map[fieldpath.APIVersion]*fieldpath.Set {
	if !s.spec.hasStatus {
		return nil
	}
	p := "status"
	if s.statusOnly {
		p = "spec"
		if !hasField(s.spec.newFunc(), "Spec") {
			return nil
		}
	}
	return map[fieldpath.APIVersion]*fieldpath.Set{
		fieldpath.APIVersion(s.spec.gv.String()): fieldpath.NewSet(fieldpath.MakePathOrDie(p)),
	}
}

var (
	_ rest.RESTCreateStrategy  = &strategy{}
	_ rest.RESTUpdateStrategy  = &strategy{}
	_ rest.ResetFieldsStrategy = &strategy{}
)

func mustAccessor(obj runtime.Object) metav1Object {
	a, err := meta.Accessor(obj)
	if err != nil {
		panic(err)
	}
	return a
}

func structValue(obj runtime.Object) reflect.Value { return reflect.ValueOf(obj).Elem() }

func hasField(obj runtime.Object, name string) bool {
	return structValue(obj).FieldByName(name).IsValid()
}

func fieldType(obj runtime.Object, name string) reflect.Type {
	return structValue(obj).FieldByName(name).Type()
}

func getField(obj runtime.Object, name string) reflect.Value {
	f := structValue(obj).FieldByName(name)
	c := reflect.New(f.Type()).Elem()
	c.Set(f)
	return c
}

func setField(obj runtime.Object, name string, v reflect.Value) {
	if f := structValue(obj).FieldByName(name); f.IsValid() {
		f.Set(v)
	}
}

// copyInto replaces *dst with a deep copy of src (same type).
func copyInto(dst, src runtime.Object) {
	structValue(dst).Set(structValue(src.DeepCopyObject()))
}
