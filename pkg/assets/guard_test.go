package assets

import (
	"bytes"
	"os"
	"testing"

	corev1 "k8s.io/api/core/v1"
	"sigs.k8s.io/yaml"
)

const guardGolden = "testdata/guard-static-pod.golden.yaml"

// TestGuardStaticPodGolden: the guard's static pod as start installs it.
func TestGuardStaticPodGolden(t *testing.T) {
	cfg := testConfig(t)
	got, err := EncodeYAML(GuardStaticPod(cfg, "/opt/bootstrap/assets"))
	if err != nil {
		t.Fatal(err)
	}
	if *update {
		if err := os.WriteFile(guardGolden, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(guardGolden)
	if err != nil {
		t.Fatalf("%v (run go test ./pkg/assets -update to create it)", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("the guard static pod differs from %s; if intended run go test ./pkg/assets -update and review the diff", guardGolden)
	}
	var pod corev1.Pod
	if err := yaml.UnmarshalStrict(got, &pod); err != nil {
		t.Fatalf("strict decode: %v", err)
	}
	c := pod.Spec.Containers[0]
	if !pod.Spec.HostNetwork || c.Image != cfg.Images.Bootstrap {
		t.Errorf("hostNetwork %v image %q: want host network and images.bootstrap %q", pod.Spec.HostNetwork, c.Image, cfg.Images.Bootstrap)
	}
	for _, m := range c.VolumeMounts {
		if !m.ReadOnly {
			t.Errorf("mount %s is writable: the guard only reads the node's files", m.MountPath)
		}
	}
}
