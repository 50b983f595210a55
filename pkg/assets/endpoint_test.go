package assets

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"k8s.io/client-go/tools/clientcmd"

	"github.com/bootstrap-k8s/bootstrap/pkg/apis/bootstrap/v1alpha1"
)

// TestControlPlaneEndpoint: with apiServer.controlPlaneEndpoint the serving
// certificate names it, every kubeconfig a node or user gets (and
// cluster-info, which joining nodes follow) points at it, the local
// components stay on loopback, and kube-apiserver advertises its own node.
func TestControlPlaneEndpoint(t *testing.T) {
	cfg, err := v1alpha1.Load("testdata/cluster.yaml", func(c *v1alpha1.BootstrapConfiguration) { c.APIServer.ControlPlaneEndpoint = "lb.example.net" })
	if err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join(t.TempDir(), "assets")
	if _, err := Render(cfg, dir, testOptions()); err != nil {
		t.Fatal(err)
	}
	const want = "https://lb.example.net:6443"
	if crt := loadCert(t, dir, APIServerCert); !slices.Contains(crt.DNSNames, "lb.example.net") {
		t.Errorf("apiserver certificate SANs %v lack lb.example.net", crt.DNSNames)
	}
	for _, kc := range []struct {
		path, server string
	}{{AdminKubeconfig, want}, {KubeletKubeconfig, want}, {KubeProxyKubeconfig, want}, {ControllerManagerKubeconfig, LoopbackURL(cfg)}} {
		c, err := clientcmd.LoadFromFile(Path(dir, kc.path))
		if err != nil {
			t.Fatal(err)
		}
		for _, cl := range c.Clusters {
			if cl.Server != kc.server {
				t.Errorf("%s points at %s, want %s", kc.path, cl.Server, kc.server)
			}
		}
	}
	manifests := readDir(t, filepath.Join(dir, ManifestsDir))
	if !strings.Contains(manifests, "server: "+want) {
		t.Errorf("cluster-info does not carry %s", want)
	}
	if !strings.Contains(manifests, "--advertise-address=$(HOST_IP)") || !strings.Contains(manifests, "fieldPath: status.hostIP") {
		t.Error("kube-apiserver does not advertise its node's status.hostIP")
	}
}

func readDir(t *testing.T, dir string) string {
	t.Helper()
	files, _ := filepath.Glob(filepath.Join(dir, "*.yaml"))
	var b strings.Builder
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		b.Write(data)
	}
	return b.String()
}
