package start

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/bootstrap-k8s/bootstrap/pkg/apis/bootstrap/v1alpha1"
)

// TestCheckNotPivoted: only a kube-apiserver static pod that pivot wrote
// (its label) refuses start; none, or someone else's, does not.
func TestCheckNotPivoted(t *testing.T) {
	for _, tc := range []struct {
		name, manifest, wantErr string
	}{
		{"no manifest", "", ""},
		{"pivoted", "apiVersion: v1\nkind: Pod\nmetadata:\n  name: kube-apiserver\n  labels:\n    component: kube-apiserver\n    bootstrap.dev/static-pod: \"true\"\n", "pivot --to self-hosted"},
		{"another tool's static pod", "apiVersion: v1\nkind: Pod\nmetadata:\n  name: kube-apiserver\n  labels:\n    component: kube-apiserver\n", ""},
		{"not a manifest", "{not yaml: [", "is not a pod manifest"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg := &v1alpha1.BootstrapConfiguration{}
			cfg.Node.Name = "node1"
			cfg.Node.StaticPodPath = t.TempDir()
			if tc.manifest != "" {
				if err := os.WriteFile(filepath.Join(cfg.Node.StaticPodPath, "kube-apiserver.yaml"), []byte(tc.manifest), 0o600); err != nil {
					t.Fatal(err)
				}
			}
			err := checkNotPivoted(cfg, "/assets")
			switch {
			case tc.wantErr == "" && err != nil:
				t.Errorf("refused: %v", err)
			case tc.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tc.wantErr)):
				t.Errorf("error %v, want one containing %q", err, tc.wantErr)
			}
		})
	}
}
