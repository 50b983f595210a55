package pivot

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/runtime"

	"github.com/bootstrap-k8s/bootstrap/internal/testcontrolplane"
	"github.com/bootstrap-k8s/bootstrap/pkg/assets"
	"github.com/bootstrap-k8s/bootstrap/pkg/kubeapply"
)

// rendered is a freshly rendered asset dir's control-plane workloads and
// the Secrets and ConfigMaps they mount, as the API would return them.
type rendered struct {
	ds          *appsv1.DaemonSet
	deployments map[string]*appsv1.Deployment
	secrets     map[string]map[string][]byte
	configMaps  map[string]map[string][]byte
}

func (r *rendered) secret(name string) (map[string][]byte, error) {
	if d, ok := r.secrets[name]; ok {
		return d, nil
	}
	return nil, fmt.Errorf("secrets %q not found", name)
}

func (r *rendered) configMap(name string) (map[string][]byte, error) {
	if d, ok := r.configMaps[name]; ok {
		return d, nil
	}
	return nil, fmt.Errorf("configmaps %q not found", name)
}

func renderWorkloads(t *testing.T) (*rendered, string) {
	t.Helper()
	dir, _ := testcontrolplane.Render(t)
	objs, err := kubeapply.ReadManifests(assets.Path(dir, assets.ManifestsDir))
	if err != nil {
		t.Fatal(err)
	}
	r := &rendered{deployments: map[string]*appsv1.Deployment{}, secrets: map[string]map[string][]byte{}, configMaps: map[string]map[string][]byte{}}
	conv := runtime.DefaultUnstructuredConverter
	for _, u := range objs {
		if u.GetNamespace() != assets.KubeSystem {
			continue
		}
		var err error
		switch u.GetKind() {
		case "DaemonSet":
			if u.GetName() == assets.KubeAPIServer {
				r.ds = &appsv1.DaemonSet{}
				err = conv.FromUnstructured(u.Object, r.ds)
			}
		case "Deployment":
			d := &appsv1.Deployment{}
			err = conv.FromUnstructured(u.Object, d)
			r.deployments[d.Name] = d
		case "Secret":
			s := &corev1.Secret{}
			err = conv.FromUnstructured(u.Object, s)
			r.secrets[s.Name] = s.Data
			for k, v := range s.StringData {
				r.secrets[s.Name][k] = []byte(v)
			}
		case "ConfigMap":
			c := &corev1.ConfigMap{}
			err = conv.FromUnstructured(u.Object, c)
			r.configMaps[c.Name] = map[string][]byte{}
			for k, v := range c.Data {
				r.configMaps[c.Name][k] = []byte(v)
			}
		}
		if err != nil {
			t.Fatalf("%s %s: %v", u.GetKind(), u.GetName(), err)
		}
	}
	if r.ds == nil || r.deployments[assets.KubeControllerManager] == nil || r.deployments[assets.KubeScheduler] == nil {
		t.Fatalf("the rendered manifests lack a control-plane workload")
	}
	return r, dir
}

func TestStaticFromTemplate(t *testing.T) {
	r, _ := renderWorkloads(t)
	root := t.TempDir()
	spp := filepath.Join(root, "manifests")
	type workload struct {
		tmpl corev1.PodTemplateSpec
		sel  *metav1.LabelSelector
	}
	live := map[string]workload{
		assets.KubeAPIServer:         {r.ds.Spec.Template, r.ds.Spec.Selector},
		assets.KubeControllerManager: {r.deployments[assets.KubeControllerManager].Spec.Template, r.deployments[assets.KubeControllerManager].Spec.Selector},
		assets.KubeScheduler:         {r.deployments[assets.KubeScheduler].Spec.Template, r.deployments[assets.KubeScheduler].Spec.Selector},
	}
	for _, tc := range []struct {
		component string
		wantFiles []string // relative to root, with their mode
		wantUID   int
	}{
		{assets.KubeAPIServer, []string{"pki/kube-apiserver/pki/apiserver.key", "pki/kube-apiserver/pki/ca.crt", "config/kube-apiserver/config/authentication.yaml"}, 0},
		{assets.KubeControllerManager, []string{"pki/kube-controller-manager/pki/ca.key", "pki/kube-controller-manager/pki/kubeconfig"}, 65532},
		{assets.KubeScheduler, []string{"pki/kube-scheduler/pki/kubeconfig"}, 65532},
	} {
		t.Run(tc.component, func(t *testing.T) {
			w := live[tc.component]
			plan, err := staticFromTemplate(tc.component, "workload "+tc.component, w.tmpl, w.sel, root, spp, r)
			if err != nil {
				t.Fatal(err)
			}
			p := plan.Pod
			if plan.Manifest != filepath.Join(spp, tc.component+".yaml") || p.Name != tc.component || p.Namespace != assets.KubeSystem {
				t.Errorf("manifest %s, pod %s/%s", plan.Manifest, p.Namespace, p.Name)
			}
			sel, _ := metav1.LabelSelectorAsSelector(w.sel)
			if sel.Matches(labels.Set(p.Labels)) || p.Labels[assets.ComponentLabel] != tc.component || p.Labels[assets.StaticPodLabel] != "true" {
				t.Errorf("labels %v: must keep %s, carry %s and not match the selector %s", p.Labels, assets.ComponentLabel, assets.StaticPodLabel, sel)
			}
			if p.Spec.ServiceAccountName != "" || p.Spec.NodeSelector != nil || p.Spec.Affinity != nil {
				t.Errorf("a static pod may not reference a ServiceAccount nor be scheduled: %+v", p.Spec)
			}
			for _, v := range p.Spec.Volumes {
				if v.Secret != nil || v.ConfigMap != nil || v.Projected != nil {
					t.Errorf("volume %s still references an API object", v.Name)
				}
				if v.HostPath != nil && !strings.HasPrefix(v.HostPath.Path, root) && v.HostPath.Path != "/etc/ssl/certs" && v.HostPath.Path != "/var/log/kubernetes/audit" {
					t.Errorf("volume %s: unexpected host path %s", v.Name, v.HostPath.Path)
				}
			}
			if p.Spec.Containers[0].Image != w.tmpl.Spec.Containers[0].Image || strings.Join(p.Spec.Containers[0].Args, " ") != strings.Join(w.tmpl.Spec.Containers[0].Args, " ") {
				t.Error("the container's image or flags differ from the live template's")
			}
			if p.UID == "" {
				t.Error("no content UID")
			}
			again, _ := staticFromTemplate(tc.component, "workload "+tc.component, w.tmpl, w.sel, root, spp, r)
			if again.Pod.UID != p.UID {
				t.Errorf("the UID is not derived from the content: %s, then %s", p.UID, again.Pod.UID)
			}
			for _, f := range plan.Files {
				if strings.Contains(f.Path, "/pki/") && (f.UID != tc.wantUID || f.Mode != 0o600) {
					t.Errorf("%s: uid %d mode %v, want uid %d (the pod's user) and 0600", f.Path, f.UID, f.Mode, tc.wantUID)
				}
			}
			if os.Geteuid() != 0 { // only root gives files away: write them as this user
				for i := range plan.Files {
					plan.Files[i].UID, plan.Files[i].GID = os.Geteuid(), os.Getegid()
				}
				for i := range plan.Dirs {
					plan.Dirs[i].UID, plan.Dirs[i].GID = os.Geteuid(), os.Getegid()
				}
			}
			if err := plan.writeFiles(); err != nil {
				t.Fatal(err)
			}
			for _, rel := range tc.wantFiles {
				fi, err := os.Stat(filepath.Join(root, rel))
				if err != nil {
					t.Errorf("%s: %v", rel, err)
					continue
				}
				want := os.FileMode(0o600)
				if strings.HasPrefix(rel, "config/") {
					want = 0o644
				}
				if fi.Mode().Perm() != want {
					t.Errorf("%s: mode %v, want %v", rel, fi.Mode().Perm(), want)
				}
			}
			if err := removeComponentDirs(root, tc.component); err != nil {
				t.Fatal(err)
			}
			for _, sub := range []string{"pki", "config"} {
				if _, err := os.Stat(filepath.Join(root, sub, tc.component)); !os.IsNotExist(err) {
					t.Errorf("%s/%s left after removal (%v)", sub, tc.component, err)
				}
			}
		})
	}
}

// TestStaticFromTemplateRefuses: what a static pod cannot have is refused
// before anything is written.
func TestStaticFromTemplateRefuses(t *testing.T) {
	r, _ := renderWorkloads(t)
	base := r.ds.Spec.Template
	for _, tc := range []struct {
		name   string
		change func(*corev1.PodTemplateSpec, *metav1.LabelSelector)
		want   string
	}{
		{"projected volume", func(p *corev1.PodTemplateSpec, _ *metav1.LabelSelector) {
			p.Spec.Volumes = append(p.Spec.Volumes, corev1.Volume{Name: "token", VolumeSource: corev1.VolumeSource{Projected: &corev1.ProjectedVolumeSource{}}})
		}, "volume token is of a kind a static pod cannot have"},
		{"env from a Secret", func(p *corev1.PodTemplateSpec, _ *metav1.LabelSelector) {
			p.Spec.Containers[0].Env = append(p.Spec.Containers[0].Env, corev1.EnvVar{Name: "X", ValueFrom: &corev1.EnvVarSource{SecretKeyRef: &corev1.SecretKeySelector{Key: "k"}}})
		}, "env X comes from a Secret"},
		{"missing Secret", func(p *corev1.PodTemplateSpec, _ *metav1.LabelSelector) {
			p.Spec.Volumes[0].Secret.SecretName = "gone"
		}, `Secret gone`},
		{"selector on the component alone", func(_ *corev1.PodTemplateSpec, s *metav1.LabelSelector) {
			s.MatchLabels = map[string]string{assets.ComponentLabel: assets.KubeAPIServer}
		}, "would adopt the static pod's mirror pod"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tmpl := *base.DeepCopy()
			sel := r.ds.Spec.Selector.DeepCopy()
			tc.change(&tmpl, sel)
			root := t.TempDir()
			_, err := staticFromTemplate(assets.KubeAPIServer, "DaemonSet kube-system/kube-apiserver", tmpl, sel, root, filepath.Join(root, "manifests"), r)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("got %v, want an error with %q", err, tc.want)
			}
			if entries, _ := os.ReadDir(root); len(entries) > 0 {
				t.Errorf("a refused template wrote %v", entries)
			}
		})
	}
}
