package kubeprobe

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"reflect"
	"strings"
	"testing"

	"k8s.io/client-go/rest"
)

func TestIsDialErrorAndStatus(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	c, err := Fresh(&rest.Config{Host: "http://" + addr})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if _, err := c.Version(); !IsDialError(err) {
		t.Errorf("nothing listens at %s, yet IsDialError(%v) is false", addr, err)
	}

	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/readyz" {
			http.Error(w, "[-]etcd failed", http.StatusInternalServerError)
			return
		}
		w.WriteHeader(http.StatusOK)
	}))
	defer srv.Close()
	c2, err := Fresh(&rest.Config{Host: srv.URL})
	if err != nil {
		t.Fatal(err)
	}
	defer c2.Close()
	if err := c2.Ready(context.Background()); err == nil || IsDialError(err) {
		t.Errorf("Ready on a 500 = %v, want a non-dial error", err)
	}
	err = HTTPGetOK(context.Background(), srv.Client(), srv.URL+"/readyz")
	var se *StatusError
	if !errors.As(err, &se) || se.Code != 500 {
		t.Errorf("HTTPGetOK = %v, want *StatusError 500", err)
	}
	if err := HTTPGetOK(context.Background(), srv.Client(), srv.URL+"/healthz"); err != nil {
		t.Errorf("HTTPGetOK 200 = %v", err)
	}
}

func TestFailedChecks(t *testing.T) {
	for _, tc := range []struct {
		name, body string
		want       []string
	}{
		{"two failing checks", "[+]ping ok\n[+]etcd ok\n[-]poststarthook/rbac/bootstrap-roles failed: reason withheld\n" +
			"[+]poststarthook/start-apiserver-admission-initializer ok\n[-]poststarthook/apiservice-registration-controller failed: reason withheld\nreadyz check failed\n",
			[]string{"poststarthook/rbac/bootstrap-roles", "poststarthook/apiservice-registration-controller"}},
		{"every check passes", "[+]ping ok\n[+]etcd ok\nreadyz check passed\n", nil},
		{"not a readyz answer", `{"kind":"Status","message":"forbidden"}`, nil},
	} {
		if got := failedChecks([]byte(tc.body)); !reflect.DeepEqual(got, tc.want) {
			t.Errorf("%s: failedChecks = %q, want %q", tc.name, got, tc.want)
		}
	}
}

// TestReadyNamesFailingChecks: a 500 from /readyz whose answer is longer
// than the 2 KiB client-go quotes still names every failing check.
func TestReadyNamesFailingChecks(t *testing.T) {
	var body strings.Builder
	for i := 0; i < 60; i++ {
		fmt.Fprintf(&body, "[+]poststarthook/some-hook-that-passes-%02d ok\n", i)
	}
	body.WriteString("[-]poststarthook/rbac/bootstrap-roles failed: reason withheld\nreadyz check failed\n")
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Error(w, body.String(), http.StatusInternalServerError)
	}))
	defer srv.Close()
	c, err := Fresh(&rest.Config{Host: srv.URL})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	err = c.Ready(context.Background())
	var nr *NotReadyError
	if !errors.As(err, &nr) || !reflect.DeepEqual(nr.Checks, []string{"poststarthook/rbac/bootstrap-roles"}) {
		t.Fatalf("Ready = %v (%T), want a *NotReadyError naming poststarthook/rbac/bootstrap-roles", err, err)
	}
	if nr.Error() != "not ready: poststarthook/rbac/bootstrap-roles" || errors.Unwrap(nr) == nil {
		t.Errorf("NotReadyError: %q, unwraps to %v", nr.Error(), errors.Unwrap(nr))
	}
}
