package tempcontrolplane

import (
	"context"
	"errors"
	"testing"
	"time"

	"k8s.io/client-go/kubernetes"
)

// TestServeAfter: with ServeAfter, Start builds the apiserver and then
// waits: a request made meanwhile is answered once the channel closes (it
// waited, it did not fail), and a Start given up while it waits frees the
// port.
func TestServeAfter(t *testing.T) {
	dir, _ := renderAssets(t)

	t.Run("serves once released", func(t *testing.T) {
		cp, release := newHeldCP(t, dir)
		started := make(chan error, 1)
		go func() { started <- cp.Start(context.Background()) }()
		cs, err := kubernetes.NewForConfig(cp.AdminConfig())
		if err != nil {
			t.Fatal(err)
		}
		time.Sleep(3 * time.Second) // built and waiting by now (it takes well under a second)
		answered := make(chan error, 1)
		go func() { _, err := cs.Discovery().ServerVersion(); answered <- err }()
		select {
		case err := <-started:
			t.Fatalf("Start returned before ServeAfter was closed: %v", err)
		case err := <-answered:
			t.Fatalf("a request was answered before ServeAfter was closed: %v", err)
		case <-time.After(time.Second):
		}
		close(release)
		if err := <-started; err != nil {
			t.Fatalf("start: %v", err)
		}
		select {
		case err := <-answered:
			if err != nil {
				t.Fatalf("the request made while it waited failed: %v", err)
			}
		case <-time.After(10 * time.Second):
			t.Fatal("the request made while it waited got no answer")
		}
	})

	t.Run("given up while waiting", func(t *testing.T) {
		cfg := testConfig(t, dir)
		cfg.ServeAfter = make(chan struct{}) // never closed
		cp, err := New(cfg)
		if err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		if err := cp.Start(ctx); !errors.Is(err, context.DeadlineExceeded) {
			t.Fatalf("start: want the deadline, got %v", err)
		}
		if l, err := listenShared(cfg.BindAddress, cfg.BindPort); err != nil {
			t.Fatalf("port still bound after a Start given up: %v", err)
		} else {
			l.Close()
		}
		if err := cp.Stop(); err != nil {
			t.Fatalf("stop after a Start given up: %v", err)
		}
	})
}

// newHeldCP is a control plane whose Start serves only once release is
// closed; it stops with the test.
func newHeldCP(t *testing.T, dir string) (*ControlPlane, chan struct{}) {
	t.Helper()
	cfg := testConfig(t, dir)
	release := make(chan struct{})
	cfg.ServeAfter = release
	cp, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cp.Stop() })
	return cp, release
}
