package v1alpha1

import (
	"strings"
	"testing"
)

// TestPrintDefaultsFollowsVersion: the printed defaults pin no image, so
// bumping kubernetesVersion (or imageRepository) in that file moves every
// derived image with it; the references are still shown, as comments.
func TestPrintDefaultsFollowsVersion(t *testing.T) {
	data, err := MarshalDefaults()
	if err != nil {
		t.Fatal(err)
	}
	out := string(data)
	if !strings.Contains(out, "#   kubeAPIServer: registry.k8s.io/kube-apiserver:"+DefaultKubernetesVersion) {
		t.Errorf("derived images not listed as comments:\n%s", out)
	}
	out = strings.Replace(out, `advertiseAddress: ""`, "advertiseAddress: 10.0.0.5", 1)
	out = strings.Replace(out, "kubernetesVersion: "+DefaultKubernetesVersion, "kubernetesVersion: v1.37.99", 1)
	out = strings.Replace(out, "imageRepository: registry.k8s.io", "imageRepository: mirror.example.com/k8s", 1)
	c, err := LoadBytes([]byte(out), "defaults.yaml", fixedNode)
	if err != nil {
		t.Fatalf("edited print-defaults output does not load: %v\n%s", err, out)
	}
	for got, want := range map[string]string{
		c.Images.KubeAPIServer: "kube-apiserver", c.Images.KubeControllerManager: "kube-controller-manager",
		c.Images.KubeScheduler: "kube-scheduler", c.Images.KubeProxy: "kube-proxy",
	} {
		if want = "mirror.example.com/k8s/" + want + ":v1.37.99"; got != want {
			t.Errorf("image %q, want %q", got, want)
		}
	}
	if !strings.HasPrefix(c.Images.Etcd, "mirror.example.com/k8s/etcd:") {
		t.Errorf("images.etcd = %q does not follow imageRepository", c.Images.Etcd)
	}
}
