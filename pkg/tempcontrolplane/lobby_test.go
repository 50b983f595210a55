package tempcontrolplane

import (
	"context"
	"testing"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
)

// TestLobby: a port bound by ListenAndHold answers a read of one object and
// a non-resource request at once with 503, holds a list until the apiserver
// serves and then has the apiserver answer it (authentication included),
// and passes later requests on the same connection through. Stopped before
// it served, it answers what it held and frees the port.
func TestLobby(t *testing.T) {
	dir, _ := renderAssets(t)

	t.Run("until and after the apiserver serves", func(t *testing.T) {
		cp, release := newHeldCP(t, dir)
		var err error
		if err := cp.ListenAndHold(); err != nil {
			t.Fatal(err)
		}
		admin := cp.AdminConfig()
		cs := kubernetes.NewForConfigOrDie(admin)
		ctx := context.Background()

		t0 := time.Now()
		_, err = cs.CoreV1().Nodes().Get(ctx, "node1", metav1.GetOptions{})
		if !apierrors.IsServiceUnavailable(err) {
			t.Fatalf("GET of one object in the lobby: want 503, got %v", err)
		}
		if took := time.Since(t0); took > 2*time.Second {
			t.Fatalf("GET of one object in the lobby took %s; it must be answered at once", took)
		}
		if _, err := cs.Discovery().ServerVersion(); err == nil {
			t.Fatal("/version was answered before the apiserver served")
		}

		listed := make(chan error, 1)
		var rv string
		go func() {
			l, err := cs.CoreV1().Namespaces().List(ctx, metav1.ListOptions{})
			if err == nil {
				rv = l.ResourceVersion
			}
			listed <- err
		}()
		anon := &rest.Config{Host: admin.Host, TLSClientConfig: rest.TLSClientConfig{CAData: admin.CAData, CAFile: admin.CAFile}}
		anonListed := make(chan error, 1)
		go func() {
			_, err := kubernetes.NewForConfigOrDie(anon).CoreV1().Pods("").List(ctx, metav1.ListOptions{})
			anonListed <- err
		}()

		started := make(chan error, 1)
		go func() { started <- cp.Start(ctx) }()
		select {
		case err := <-listed:
			t.Fatalf("a list was answered before the apiserver served: %v", err)
		case err := <-started:
			t.Fatalf("Start returned before ServeAfter was closed: %v", err)
		case <-time.After(3 * time.Second):
		}
		close(release)
		if err := <-started; err != nil {
			t.Fatalf("start: %v", err)
		}
		select {
		case err := <-listed:
			if err != nil {
				t.Fatalf("the held list failed: %v", err)
			}
		case <-time.After(10 * time.Second):
			t.Fatal("the held list got no answer 10 s after the apiserver served")
		}
		if rv == "" {
			t.Fatal("the held list was answered without a resourceVersion: not by the apiserver")
		}
		if err := <-anonListed; !apierrors.IsUnauthorized(err) {
			t.Fatalf("a held list without a client certificate: want 401 from the apiserver, got %v", err)
		}
		// The admin client's connection is the lobby's; its next GET goes through.
		if _, err := cs.CoreV1().Namespaces().Get(ctx, "kube-system", metav1.GetOptions{}); err != nil {
			t.Fatalf("GET after the apiserver served: %v", err)
		}
	})

	t.Run("stopped before it served", func(t *testing.T) {
		cfg := testConfig(t, dir)
		cp, err := New(cfg)
		if err != nil {
			t.Fatal(err)
		}
		if err := cp.ListenAndHold(); err != nil {
			t.Fatal(err)
		}
		cs := kubernetes.NewForConfigOrDie(cp.AdminConfig())
		listed := make(chan error, 1)
		go func() {
			_, err := cs.CoreV1().Namespaces().List(context.Background(), metav1.ListOptions{})
			listed <- err
		}()
		time.Sleep(500 * time.Millisecond) // held by now
		if err := cp.Stop(); err != nil {
			t.Fatalf("stop: %v", err)
		}
		select {
		case err := <-listed:
			if err == nil {
				t.Fatal("a list held by a lobby that never served succeeded")
			}
		case <-time.After(20 * time.Second):
			t.Fatal("a list held by a lobby that was stopped got no answer")
		}
		if l, err := listenShared(cfg.BindAddress, cfg.BindPort); err != nil {
			t.Fatalf("port still bound after Stop: %v", err)
		} else {
			l.Close()
		}
	})
}
