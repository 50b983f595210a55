package join

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/bootstrap-k8s/bootstrap/internal/testetcd"
	"github.com/bootstrap-k8s/bootstrap/pkg/apis/bootstrap/v1alpha1"
	"github.com/bootstrap-k8s/bootstrap/pkg/assets"
	"github.com/bootstrap-k8s/bootstrap/pkg/etcdmembers"
	"github.com/bootstrap-k8s/bootstrap/pkg/failure"
)

// haAssets renders an asset dir of a cluster with a control-plane endpoint.
func haAssets(t *testing.T) string {
	t.Helper()
	cfg := &v1alpha1.BootstrapConfiguration{}
	cfg.APIServer.AdvertiseAddress = "10.0.0.2"
	cfg.APIServer.ControlPlaneEndpoint = "10.0.0.1:6443"
	cfg.Node.Name = "node-1"
	v1alpha1.SetDefaults(cfg)
	dir := filepath.Join(t.TempDir(), "assets")
	if _, err := assets.Render(cfg, dir, assets.Options{}); err != nil {
		t.Fatal(err)
	}
	return dir
}

// TestControlPlaneRefusals: every refusal before a request, with its exit
// kind, and nothing written on the node.
func TestControlPlaneRefusals(t *testing.T) {
	ha := haAssets(t)
	single := testetcd.RenderAssets(t)
	for _, tc := range []struct {
		name    string
		assets  string
		pinOf   string
		address string
		prepare func(t *testing.T, cp *ControlPlaneOptions)
		kind    failure.Kind
		want    string
	}{
		{"no asset dir", "", ha, "10.0.0.3", nil, failure.KindInvalidConfig, "--asset-dir is required"},
		{"loopback address", ha, ha, "127.0.0.1", nil, failure.KindInvalidConfig, "--advertise-address"},
		{"not an asset dir", "/nonexistent", ha, "10.0.0.3", nil, failure.KindInvalidConfig, "is it the dir `bootstrap render` wrote"},
		{"no control-plane endpoint", single, single, "10.0.0.3", nil, failure.KindInvalidConfig, "without apiServer.controlPlaneEndpoint"},
		{"another cluster's asset dir", ha, single, "10.0.0.3", nil, failure.KindInvalidConfig, "belongs to another cluster"},
		{"etcd manifest exists", ha, ha, "10.0.0.3", func(t *testing.T, cp *ControlPlaneOptions) {
			writeFile(t, filepath.Join(cp.StaticPodPath, "etcd.yaml"))
		}, failure.KindPreflight, "runs an etcd member already"},
		{"etcd data left", ha, ha, "10.0.0.3", func(t *testing.T, cp *ControlPlaneOptions) {
			writeFile(t, filepath.Join(cp.EtcdDataDir, "member", "wal"))
		}, failure.KindPreflight, "is not empty"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			o := nodeOptions(t, "https://10.0.0.1:6443", "abcdef.0123456789abcdef", pin(t, tc.pinOf))
			node := filepath.Dir(filepath.Dir(o.KubernetesDir))
			cpo := ControlPlaneOptions{AssetDir: tc.assets, NodeName: "node-2", AdvertiseAddress: tc.address,
				StaticPodPath: filepath.Join(node, "manifests"), EtcdDataDir: filepath.Join(node, "etcd"), EtcdCertDir: filepath.Join(node, "pki", "etcd")}
			if tc.prepare != nil {
				tc.prepare(t, &cpo)
			}
			before := listFiles(node)
			o.setDefaults()
			_, err := newControlPlane(&o, cpo, o.paths())
			if err == nil || !strings.Contains(err.Error(), tc.want) || failure.KindOf(err) != tc.kind {
				t.Fatalf("err = %v (%v), want %v with %q", err, failure.KindOf(err), tc.kind, tc.want)
			}
			if after := listFiles(node); after != before {
				t.Errorf("files changed: before %q, after %q", before, after)
			}
		})
	}
}

// TestCheckCanAdd: join's quorum rules.
func TestCheckCanAdd(t *testing.T) {
	cp := &controlPlane{ControlPlaneOptions: ControlPlaneOptions{NodeName: "n9"}, peerURL: "https://n9:2380"}
	st := func(name string, healthy, learner bool) etcdmembers.Status {
		return etcdmembers.Status{Member: etcdmembers.Member{Name: name, IsLearner: learner}, PeerURLs: []string{"https://" + name + ":2380"}, Started: name != "", Healthy: healthy}
	}
	for _, tc := range []struct {
		name string
		list []etcdmembers.Status
		want string
	}{
		{"1 healthy → 2", []etcdmembers.Status{st("n1", true, false)}, ""},
		{"2 of 3 healthy → 4", []etcdmembers.Status{st("n1", true, false), st("n2", true, false), st("n3", false, false)}, ""},
		{"1 of 2 healthy → 3", []etcdmembers.Status{st("n1", true, false), st("n2", false, false)}, ""},
		{"1 of 3 healthy", []etcdmembers.Status{st("n1", true, false), st("n2", false, false), st("n3", false, false)}, "would break quorum: 1 of 3"},
		{"another join in flight", []etcdmembers.Status{st("n1", true, false), st("", false, true)}, "still joining"},
		{"this name taken", []etcdmembers.Status{st("n1", true, false), {Member: etcdmembers.Member{Name: "n9"}, PeerURLs: []string{"https://other:2380"}, Started: true, Healthy: true}}, "has this node's name"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := (&members{list: tc.list}).checkCanAdd(t.Context(), cp)
			if tc.want == "" {
				if err != nil {
					t.Fatal(err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tc.want) || !failure.IsPreflight(err) {
				t.Fatalf("err = %v, want a preflight error with %q", err, tc.want)
			}
		})
	}
}

func writeFile(t *testing.T, path string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte("x"), 0o600); err != nil {
		t.Fatal(err)
	}
}

func listFiles(dir string) string {
	var out []string
	_ = filepath.Walk(dir, func(p string, fi os.FileInfo, err error) error {
		if err == nil && !fi.IsDir() {
			out = append(out, p)
		}
		return nil
	})
	return strings.Join(out, " ")
}
