package upgrade

import (
	"context"
	"reflect"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/bootstrap-k8s/bootstrap/internal/testcontrolplane"
	"github.com/bootstrap-k8s/bootstrap/pkg/apis/bootstrap/v1alpha1"
	"github.com/bootstrap-k8s/bootstrap/pkg/assets"
	"github.com/bootstrap-k8s/bootstrap/pkg/kubeapply"
)

// startApplied is a real in-process apiserver holding the asset dir's
// manifests, as after `bootstrap start`.
func startApplied(t *testing.T) (*testcontrolplane.ControlPlane, *kubeapply.Applier) {
	t.Helper()
	cp := testcontrolplane.Start(t)
	objs, err := kubeapply.ReadManifests(assets.Path(cp.AssetDir, assets.ManifestsDir))
	if err != nil {
		t.Fatal(err)
	}
	a, err := kubeapply.NewApplier(cp.Admin, func(string, ...any) {})
	if err != nil {
		t.Fatal(err)
	}
	if err := a.ApplyInTiers(context.Background(), objs, time.Minute); err != nil {
		t.Fatal(err)
	}
	return cp, a
}

func withVersion(c *v1alpha1.BootstrapConfiguration, v string) *v1alpha1.BootstrapConfiguration {
	cp := *c // SetDefaults below only fills the emptied images
	out := &cp
	out.KubernetesVersion = v
	out.Images = v1alpha1.ImageOverrides{}
	v1alpha1.SetDefaults(out)
	return out
}

func TestPlanOfTheSameConfigurationChangesNothing(t *testing.T) {
	cp, _ := startApplied(t)
	p, err := makePlan(context.Background(), cp.AssetDir, cp.Config, cp.Admin)
	if err != nil {
		t.Fatal(err)
	}
	if n := p.Changes(); n != 0 {
		t.Errorf("plan of the applied configuration has %d changes:\n%s", n, p.Table())
	}
	if len(p.Steps) < 4 || p.Steps[0].Name != assets.KubeAPIServer {
		t.Errorf("steps %+v: want kube-apiserver first among the workloads", p.Steps)
	}
}

func TestPlanOfAnotherVersionRollsTheControlPlaneInOrder(t *testing.T) {
	cp, _ := startApplied(t)
	target := withVersion(cp.Config, v1alpha1.PreviousKubernetesVersion)
	p, err := makePlan(context.Background(), cp.AssetDir, target, cp.Admin)
	if err != nil {
		t.Fatal(err)
	}
	var changed []string
	for _, s := range p.Steps {
		if s.Change {
			changed = append(changed, s.Name)
			if !strings.HasSuffix(s.To, ":"+v1alpha1.PreviousKubernetesVersion) {
				t.Errorf("step %s goes to %s", s.Name, s.To)
			}
		}
	}
	want := []string{assets.KubeAPIServer, assets.KubeControllerManager, assets.KubeScheduler, assets.KubeProxy}
	if !reflect.DeepEqual(changed, want) {
		t.Errorf("changed workloads %v, want %v in that order:\n%s", changed, want, p.Table())
	}
	// The asset dir itself is untouched by a plan.
	again, err := makePlan(context.Background(), cp.AssetDir, cp.Config, cp.Admin)
	if err != nil || again.Changes() != 0 {
		t.Errorf("after the plan the asset dir no longer matches the cluster: %v\n%s", err, again.Table())
	}
}

func TestPlanRefusesWhatTheSkewPolicyForbids(t *testing.T) {
	cp, _ := startApplied(t)
	ctx := context.Background()
	node := &corev1.Node{ObjectMeta: metav1.ObjectMeta{Name: "newer"}}
	n, err := cp.Client.CoreV1().Nodes().Create(ctx, node, metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	n.Status.NodeInfo.KubeletVersion = "v1.38.0"
	if _, err := cp.Client.CoreV1().Nodes().UpdateStatus(ctx, n, metav1.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}
	p, err := makePlan(ctx, cp.AssetDir, cp.Config, cp.Admin)
	if err != nil {
		t.Fatal(err)
	}
	if len(p.Refusals) != 1 || !strings.Contains(p.Refusals[0], "kubelet newer at v1.38.0") || !strings.Contains(p.Refusals[0], "must not be newer") {
		t.Errorf("refusals %q, want the newer kubelet named with the rule", p.Refusals)
	}
	if !strings.Contains(p.Table(), "REFUSED: kubelet newer") {
		t.Errorf("the table does not show the refusal:\n%s", p.Table())
	}
}

func TestRollBackPutsThePreviousSpecBack(t *testing.T) {
	cp, a := startApplied(t)
	ctx := context.Background()
	target := withVersion(cp.Config, v1alpha1.PreviousKubernetesVersion)
	p, err := makePlan(ctx, cp.AssetDir, target, cp.Admin)
	if err != nil {
		t.Fatal(err)
	}
	s := p.Steps[0]
	previous, err := a.Get(ctx, s.obj)
	if err != nil {
		t.Fatal(err)
	}
	if err := a.Apply(ctx, s.obj); err != nil {
		t.Fatal(err)
	}
	if err := rollBack(ctx, a, previous); err != nil {
		t.Fatal(err)
	}
	now, err := a.Get(ctx, s.obj)
	if err != nil {
		t.Fatal(err)
	}
	img := func(u *unstructured.Unstructured) string {
		cs, _, _ := unstructured.NestedSlice(u.Object, "spec", "template", "spec", "containers")
		return cs[0].(map[string]any)["image"].(string)
	}
	if img(now) != img(previous) || !reflect.DeepEqual(now.Object["spec"], previous.Object["spec"]) {
		t.Errorf("after the roll-back the DaemonSet runs %s, want %s", img(now), img(previous))
	}
}

func TestSavedFilesComeBack(t *testing.T) {
	dir, cfg := testcontrolplane.Render(t)
	saved, err := saveRendered(dir)
	if err != nil {
		t.Fatal(err)
	}
	before, _ := saveRendered(dir)
	if _, err := assets.Render(withVersion(cfg, v1alpha1.PreviousKubernetesVersion), dir, assets.Options{}); err != nil {
		t.Fatal(err)
	}
	if changed, _ := saveRendered(dir); reflect.DeepEqual(changed, before) {
		t.Fatal("re-rendering for another version changed no file")
	}
	if err := saved.restore(); err != nil {
		t.Fatal(err)
	}
	if after, _ := saveRendered(dir); !reflect.DeepEqual(after, before) {
		t.Error("restore did not bring every file back with its mode")
	}
}
