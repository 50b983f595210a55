package registry

import (
	"reflect"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
)

// runtimeNew returns a new *T for a struct type T if it is a runtime.Object.
func runtimeNew(t reflect.Type) (runtime.Object, bool) {
	if t.Kind() != reflect.Struct {
		return nil, false
	}
	obj, ok := reflect.New(t).Interface().(runtime.Object)
	return obj, ok
}

type metav1Object = metav1.Object
type metavDeleteOptions = metav1.DeleteOptions
