package tempcontrolplane

import (
	"context"
	"strconv"
	"strings"

	"github.com/bootstrap-k8s/bootstrap/internal/testetcd"

	"path/filepath"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/apimachinery/pkg/watch"

	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"

	"github.com/bootstrap-k8s/bootstrap/pkg/apis/bootstrap/v1alpha1"
	"github.com/bootstrap-k8s/bootstrap/pkg/assets"
)

// renderAssets renders a real asset dir for a single node on 127.0.0.1.
func renderAssets(t testing.TB) (string, *v1alpha1.BootstrapConfiguration) {
	t.Helper()
	cfg := &v1alpha1.BootstrapConfiguration{}
	cfg.APIServer.AdvertiseAddress = "127.0.0.1"
	cfg.Node.Name = "node1"
	v1alpha1.SetDefaults(cfg)
	dir := filepath.Join(t.TempDir(), "assets")
	if _, err := assets.Render(cfg, dir, assets.Options{}); err != nil {
		t.Fatalf("render: %v", err)
	}
	return dir, cfg
}

// testConfig builds a Config on random free ports for an asset dir.
func testConfig(t testing.TB, assetDir string) Config {
	t.Helper()
	return Config{
		AssetDir:          assetDir,
		BindAddress:       "127.0.0.1",
		BindPort:          testetcd.FreePort(t),
		EtcdName:          "node1",
		EtcdDataDir:       filepath.Join(t.TempDir(), "etcd"),
		EtcdClientPort:    testetcd.FreePort(t),
		EtcdPeerPort:      testetcd.FreePort(t),
		KubernetesVersion: "v1.37.2",
		ServiceCIDR:       "10.96.0.0/12",
		ReadyTimeout:      60 * time.Second,
	}
}

type testCP struct {
	*ControlPlane
	cfg      Config
	assetDir string
	cs       kubernetes.Interface
	dyn      dynamic.Interface
	admin    *rest.Config
}

// startTestCP renders assets and starts a control plane that stops with the test.
func startTestCP(t testing.TB) *testCP {
	t.Helper()
	dir, _ := renderAssets(t)
	cfg := testConfig(t, dir)
	cp, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	if err := cp.Start(ctx); err != nil {
		t.Fatalf("start: %v", err)
	}
	t.Cleanup(func() {
		if err := cp.Stop(); err != nil {
			t.Errorf("stop: %v", err)
		}
	})
	admin := cp.AdminConfig()
	cs, err := kubernetes.NewForConfig(admin)
	if err != nil {
		t.Fatal(err)
	}
	return &testCP{ControlPlane: cp, cfg: cfg, assetDir: dir, cs: cs, admin: admin, dyn: dynamic.NewForConfigOrDie(admin)}
}

// newNamespace creates a namespace for one test.
func newNamespace(t *testing.T, cp *testCP) string {
	t.Helper()
	name := strings.ToLower(strings.ReplaceAll(t.Name(), "/", "-"))
	name = strings.ReplaceAll(name, "_", "-")
	if len(name) > 50 {
		name = name[:50]
	}
	_, err := cp.cs.CoreV1().Namespaces().Create(context.Background(), &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: name}}, metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	return name
}

// kubeconfigClient loads a rendered kubeconfig but talks to the test apiserver.
func kubeconfigClient(t *testing.T, cp *testCP, path string) kubernetes.Interface {
	t.Helper()
	cfg, err := clientcmd.BuildConfigFromFlags("", path)
	if err != nil {
		t.Fatal(err)
	}
	cfg.Host = cp.APIServerURL()
	return kubernetes.NewForConfigOrDie(cfg)
}

func intOrStr(i int32) intstr.IntOrString { return intstr.FromInt32(i) }

type watchEvent = watch.Event

func mustQ(s string) resource.Quantity { return resource.MustParse(s) }

func itoa(i int) string { return strconv.Itoa(i) }

func assetsAdminKubeconfig(dir string) string { return assets.Path(dir, assets.AdminKubeconfig) }
