package start

import (
	"errors"
	"testing"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/runtime/schema"
)

func TestReadyzFailures(t *testing.T) {
	// What client-go returns for a 500 from /readyz: the answer's text quoted
	// in a generic server error.
	body := "[+]ping ok\n[+]etcd ok\n[-]poststarthook/rbac/bootstrap-roles failed: reason withheld\n" +
		"[+]poststarthook/start-apiserver-admission-initializer ok\n[-]poststarthook/apiservice-registration-controller failed: reason withheld\nreadyz check failed"
	for _, tc := range []struct {
		name string
		err  error
		want string
	}{
		{"two failing checks", apierrors.NewGenericServerResponse(500, "GET", schema.GroupResource{}, "", body, 0, true),
			"not ready: poststarthook/rbac/bootstrap-roles, poststarthook/apiservice-registration-controller"},
		{"no check listed", errors.New("dial tcp 127.0.0.1:6443: connect: connection refused"),
			"dial tcp 127.0.0.1:6443: connect: connection refused"},
	} {
		if got := readyzFailures(tc.err); got != tc.want {
			t.Errorf("%s: readyzFailures = %q, want %q (error text %q)", tc.name, got, tc.want, tc.err.Error())
		}
	}
}
