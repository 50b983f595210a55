//go:build e2e

package framework

import (
	"os"
	"path/filepath"
	"testing"
)

// PreviousBin is the previous minor's build of a Kubernetes binary.
func PreviousBin(name string) string { return filepath.Join(BinDir(), PreviousVersion, name) }

// UsePreviousVersion prepares the node for a cluster on the previous minor:
// its control-plane images imported and its kubelet chosen for the next
// StartKubelet. It fails the test when hack/ did not build them.
func (n *Node) UsePreviousVersion(t testing.TB) {
	t.Helper()
	images := filepath.Join(BinDir(), "..", "images", PreviousVersion)
	for _, f := range []string{PreviousBin("kubelet"), filepath.Join(images, "images.txt")} {
		if _, err := os.Stat(f); err != nil {
			t.Fatalf("%s is missing: hack/build-binaries.sh k8s-previous and hack/build-images.sh build the %s binaries and images", f, PreviousVersion)
		}
	}
	if out, err := n.script("images", images); err != nil {
		t.Fatalf("node.sh images %s: %v\n%s", images, err, out)
	}
	n.KubeletBin = PreviousBin("kubelet")
}
