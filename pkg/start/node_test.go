package start

import (
	"context"
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/bootstrap-k8s/bootstrap/internal/testcontrolplane"
	"github.com/bootstrap-k8s/bootstrap/pkg/assets"
)

// TestLabelControlPlane: the label is applied as bootstrap's field manager
// and the kubelet's labels stay; applying again changes nothing.
func TestLabelControlPlane(t *testing.T) {
	cp := testcontrolplane.Start(t)
	ctx := context.Background()
	node := &corev1.Node{ObjectMeta: metav1.ObjectMeta{Name: testcontrolplane.NodeName, Labels: map[string]string{"kubernetes.io/hostname": "node1"}}}
	if _, err := cp.Client.CoreV1().Nodes().Create(ctx, node, metav1.CreateOptions{FieldManager: "kubelet"}); err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 2; i++ {
		if err := labelControlPlane(ctx, cp.Client, node.Name); err != nil {
			t.Fatal(err)
		}
	}
	got, err := cp.Client.CoreV1().Nodes().Get(ctx, node.Name, metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if v, ok := got.Labels[assets.ControlPlaneNodeLabel]; !ok || v != "" {
		t.Errorf("labels %v lack %s", got.Labels, assets.ControlPlaneNodeLabel)
	}
	if got.Labels["kubernetes.io/hostname"] != "node1" {
		t.Errorf("the kubelet's label is gone: %v", got.Labels)
	}
	if err := labelControlPlane(ctx, cp.Client, "no-such-node"); err == nil {
		t.Errorf("labelling a missing node succeeded")
	}
}
