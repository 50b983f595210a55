package pivot

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/bootstrap-k8s/bootstrap/internal/testcontrolplane"
	"github.com/bootstrap-k8s/bootstrap/internal/testtree"
	"github.com/bootstrap-k8s/bootstrap/pkg/assets"
	"github.com/bootstrap-k8s/bootstrap/pkg/failure"
	"github.com/bootstrap-k8s/bootstrap/pkg/ui"
)

// TestRunRefuses runs pivot against the in-process temporary control plane
// (a real apiserver on a real etcd) holding the rendered control-plane
// workloads: every refusal leaves the API objects, the static pod dir and
// the asset dir as they were.
func TestRunRefuses(t *testing.T) {
	cp := testcontrolplane.Start(t)
	ctx := context.Background()
	r, _ := renderWorkloads(t)
	for name, data := range r.secrets {
		if _, err := cp.Client.CoreV1().Secrets(assets.KubeSystem).Create(ctx, secretOf(name, data), metav1.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	ds := r.ds.DeepCopy()
	if _, err := cp.Client.AppsV1().DaemonSets(assets.KubeSystem).Create(ctx, ds, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	for _, d := range r.deployments {
		if d.Name != assets.KubeControllerManager && d.Name != assets.KubeScheduler {
			continue
		}
		if _, err := cp.Client.AppsV1().Deployments(assets.KubeSystem).Create(ctx, d.DeepCopy(), metav1.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	spp := cp.Config.Node.StaticPodPath
	if err := os.MkdirAll(spp, 0o755); err != nil {
		t.Fatal(err)
	}

	// Another cluster's asset dir, configured for this apiserver's address.
	c := *cp.Config
	otherCfg := &c
	otherDir := filepath.Join(t.TempDir(), "assets")
	if _, err := assets.Render(otherCfg, otherDir, assets.Options{}); err != nil {
		t.Fatal(err)
	}

	for _, tc := range []struct {
		name      string
		o         Options
		wantKind  failure.Kind
		wantErr   string // "" for success
		wantOut   string
		unchanged bool
	}{
		{name: "unknown mode", o: Options{To: "kubeadm"}, wantKind: failure.KindInvalidConfig, wantErr: `unknown --to "kubeadm"`},
		{name: "already self-hosted", o: Options{To: SelfHosted}, wantOut: "already runs as self-hosted"},
		{name: "another cluster's asset dir", o: Options{To: StaticPods, AssetDir: otherDir, Config: otherCfg, Force: true}, wantKind: failure.KindPreflight, wantErr: "belongs to another cluster"},
		// No kube-apiserver pod serves (no kubelet here): Unhealthy, which
		// --force does not override.
		{name: "unhealthy, even with --force", o: Options{To: StaticPods, Force: true}, wantKind: failure.KindPreflight, wantErr: "--force does not override this"},
		{name: "unhealthy, dry run", o: Options{To: StaticPods, DryRun: true}, wantKind: failure.KindPreflight, wantErr: "is Unhealthy"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			o := tc.o
			if o.AssetDir == "" {
				o.AssetDir, o.Config = cp.AssetDir, cp.Config
			}
			before, beforeSPP := testtree.Snapshot(t, o.AssetDir), testtree.Snapshot(t, spp)
			var out bytes.Buffer
			res, err := Run(ctx, o, ui.New(&out, &out, 0))
			switch {
			case tc.wantErr == "" && err != nil:
				t.Fatalf("unexpected error: %v", err)
			case tc.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tc.wantErr)):
				t.Fatalf("got %v, want an error with %q", err, tc.wantErr)
			case tc.wantErr != "" && failure.KindOf(err) != tc.wantKind:
				t.Errorf("error kind %v, want %v: %v", failure.KindOf(err), tc.wantKind, err)
			}
			if tc.wantOut != "" && !strings.Contains(out.String(), tc.wantOut) {
				t.Errorf("output lacks %q:\n%s", tc.wantOut, out.String())
			}
			if res != nil && res.Changed {
				t.Errorf("result says changed: %+v", res)
			}
			if ch := append(before.Changes(t, o.AssetDir), beforeSPP.Changes(t, spp)...); len(ch) > 0 {
				t.Errorf("a refused pivot changed files: %v", ch)
			}
			if _, err := cp.Client.AppsV1().DaemonSets(assets.KubeSystem).Get(ctx, assets.KubeAPIServer, metav1.GetOptions{}); err != nil {
				t.Errorf("the DaemonSet after a refused pivot: %v", err)
			}
			if entries, _ := os.ReadDir(filepath.Join(StaticDir(cp.Config), "pki", assets.KubeAPIServer)); len(entries) > 0 {
				t.Errorf("a refused pivot wrote %v", entries)
			}
		})
	}
}

func TestStateMode(t *testing.T) {
	yes := map[string]bool{assets.KubeAPIServer: true, assets.KubeControllerManager: true, assets.KubeScheduler: true}
	for _, tc := range []struct {
		name      string
		workloads bool
		manifests map[string]bool
		want      Mode
	}{
		{"self-hosted", true, nil, SelfHosted},
		{"static pods", false, yes, StaticPods},
		{"killed after the apiserver", false, map[string]bool{assets.KubeAPIServer: true}, Mixed},
		{"both", true, yes, Mixed},
	} {
		t.Run(tc.name, func(t *testing.T) {
			st := &state{manifests: tc.manifests}
			if tc.workloads {
				r, _ := renderWorkloads(t)
				st.daemonSet, st.deployments = r.ds, r.deployments
			}
			if got := st.mode(); got != tc.want {
				t.Errorf("mode %s, want %s (%s)", got, tc.want, st)
			}
		})
	}
}

func secretOf(name string, data map[string][]byte) *corev1.Secret {
	return &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: assets.KubeSystem}, Data: data}
}
