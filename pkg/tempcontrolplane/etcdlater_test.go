package tempcontrolplane

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"

	"github.com/bootstrap-k8s/bootstrap/internal/testetcd"
	"github.com/bootstrap-k8s/bootstrap/pkg/endpoints"
)

// TestBuiltBeforeEtcdServes: a recovery starts the temporary apiserver
// while the restored member is not up yet. The apiserver is built and
// prepared without etcd (its stores share one client that connects in the
// background), and once etcd comes and ServeAfter is closed it serves, with
// storage that works.
func TestBuiltBeforeEtcdServes(t *testing.T) {
	dir, _ := renderAssets(t)
	etcdPort := testetcd.FreePort(t)
	cfg := testConfig(t, dir)
	cfg.ExternalEtcdEndpoints = []string{endpoints.HTTPS("127.0.0.1", int32(etcdPort))}
	serves := make(chan struct{})
	cfg.ServeAfter = serves
	lines := make(chan string, 32)
	cfg.Logf = func(format string, args ...any) { lines <- fmt.Sprintf(format, args...) }
	cp, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cp.Stop() })
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	started := make(chan error, 1)
	go func() { started <- cp.Start(ctx) }()

	// Nothing listens on etcd's port: k8s.io/apiserver's own storage
	// factory would wait up to 20 s for each store's connection here.
	prepared := time.After(15 * time.Second)
	for waiting := true; waiting; {
		select {
		case l := <-lines:
			t.Log(l)
			waiting = !strings.HasPrefix(l, "apiserver prepared")
		case err := <-started:
			t.Fatalf("Start returned before etcd served: %v", err)
		case <-prepared:
			t.Fatal("the apiserver was not built within 15 s of Start while etcd was down")
		}
	}

	testetcd.Start(t, dir, testetcd.Member{Name: "restored", ClientPort: etcdPort})
	close(serves)
	since := time.Now()
	select {
	case err := <-started:
		if err != nil {
			t.Fatalf("start once etcd served: %v", err)
		}
		t.Logf("ready %.2fs after etcd served", time.Since(since).Seconds())
	case <-ctx.Done():
		t.Fatal("Start did not return after etcd came up")
	}
	cs := kubernetes.NewForConfigOrDie(cp.AdminConfig())
	cm := &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: "stored", Namespace: "kube-system"}}
	if _, err := cs.CoreV1().ConfigMaps("kube-system").Create(ctx, cm, metav1.CreateOptions{}); err != nil {
		t.Fatalf("create through the store built before etcd came: %v", err)
	}
	got, err := cs.CoreV1().ConfigMaps("kube-system").List(ctx, metav1.ListOptions{})
	if err != nil || len(got.Items) != 1 {
		t.Fatalf("list from the watch cache filled after etcd came: %v, %d items", err, len(got.Items))
	}
	// Before the member stops (cleanups run last in, first out): etcd's
	// own stop waits seconds for the watches of a client still connected.
	if err := cp.Stop(); err != nil {
		t.Errorf("stop: %v", err)
	}
}
