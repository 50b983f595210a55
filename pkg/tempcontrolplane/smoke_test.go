package tempcontrolplane

import (
	"context"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

func TestSmoke(t *testing.T) {
	start := time.Now()
	cp := startTestCP(t)
	t.Logf("ready in %s", time.Since(start))
	ns, err := cp.cs.CoreV1().Namespaces().List(context.Background(), metav1.ListOptions{})
	if err != nil {
		t.Fatal(err)
	}
	for _, n := range ns.Items {
		t.Logf("ns %s %v", n.Name, n.Status.Phase)
	}
	v, err := cp.cs.Discovery().ServerVersion()
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("version %+v", v)
}
