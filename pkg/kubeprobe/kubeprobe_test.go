package kubeprobe

import (
	"context"
	"errors"
	"net"
	"net/http"
	"net/http/httptest"
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
