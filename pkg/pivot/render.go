package pivot

import (
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"

	"github.com/bootstrap-k8s/bootstrap/pkg/assets"
)

// PivotedFromAnnotation on a static pod names the workload it was derived from.
const PivotedFromAnnotation = "bootstrap.dev/pivoted-from"

// file is one file a static pod reads, written from a Secret or ConfigMap.
type file struct {
	Path     string
	Data     []byte
	Mode     os.FileMode
	UID, GID int
}

// staticPlan is one component as a static pod: the pod, its manifest's
// path, and the directories and files it mounts.
type staticPlan struct {
	Component string
	Workload  string // "DaemonSet kube-system/kube-apiserver"
	Pod       *corev1.Pod
	Manifest  string
	Dirs      []dir
	Files     []file
}

type dir struct {
	Path     string
	Mode     os.FileMode
	UID, GID int
}

// objects reads the Secrets and ConfigMaps a pod template references.
type objects interface {
	secret(name string) (map[string][]byte, error)
	configMap(name string) (map[string][]byte, error)
}

// staticFromTemplate derives the static pod of a component from its
// workload's live pod template. selector is the workload's: the static
// pod's labels must not match it, or the DaemonSet or ReplicaSet
// controller would adopt the mirror pod and count it as its own.
func staticFromTemplate(component, workload string, tmpl corev1.PodTemplateSpec, selector *metav1.LabelSelector, root, staticPodPath string, objs objects) (*staticPlan, error) {
	plan := &staticPlan{Component: component, Workload: workload, Manifest: filepath.Join(staticPodPath, component+".yaml")}
	spec := tmpl.Spec.DeepCopy()
	// A static pod may reference no API object (the kubelet and the
	// ServiceAccount and NodeRestriction admission of its mirror pod refuse
	// it), and is not scheduled.
	spec.ServiceAccountName, spec.DeprecatedServiceAccount = "", ""
	spec.AutomountServiceAccountToken = nil
	spec.ImagePullSecrets = nil
	spec.NodeName, spec.NodeSelector, spec.Affinity, spec.TopologySpreadConstraints = "", nil, nil, nil
	spec.Priority = nil
	for _, c := range append(append([]corev1.Container{}, spec.InitContainers...), spec.Containers...) {
		if err := noAPIReferences(c); err != nil {
			return nil, fmt.Errorf("%s: container %s: %w", workload, c.Name, err)
		}
	}
	uid, gid := runAs(spec)
	for i := range spec.Volumes {
		v := &spec.Volumes[i]
		var err error
		switch {
		case v.Secret != nil:
			err = plan.fromSecret(v, filepath.Join(root, "pki", component, v.Name), uid, gid, objs)
		case v.ConfigMap != nil:
			err = plan.fromConfigMap(v, filepath.Join(root, "config", component, v.Name), objs)
		case v.Projected != nil, v.PersistentVolumeClaim != nil, v.Ephemeral != nil, v.CSI != nil, v.DownwardAPI != nil:
			err = fmt.Errorf("volume %s is of a kind a static pod cannot have: convert it to a Secret, ConfigMap or hostPath volume first", v.Name)
		}
		if err != nil {
			return nil, fmt.Errorf("%s: %w", workload, err)
		}
	}

	lbls := map[string]string{}
	for k, v := range tmpl.Labels {
		lbls[k] = v
	}
	if selector != nil {
		for k := range selector.MatchLabels {
			if k != assets.ComponentLabel {
				delete(lbls, k)
			}
		}
	}
	lbls[assets.ComponentLabel] = component
	lbls[assets.StaticPodLabel] = "true"
	if selector != nil {
		sel, err := metav1.LabelSelectorAsSelector(selector)
		if err != nil {
			return nil, fmt.Errorf("%s: selector: %w", workload, err)
		}
		if sel.Matches(labels.Set(lbls)) {
			return nil, fmt.Errorf("%s selects its pods by %s alone: its controller would adopt the static pod's mirror pod; add a label of its own to its selector (e.g. %s=%s) first", workload, sel, assets.TierLabel, assets.ControlPlane)
		}
	}
	ann := map[string]string{}
	for k, v := range tmpl.Annotations {
		ann[k] = v
	}
	ann[PivotedFromAnnotation] = workload
	p := &corev1.Pod{
		TypeMeta:   metav1.TypeMeta{APIVersion: "v1", Kind: "Pod"},
		ObjectMeta: metav1.ObjectMeta{Name: component, Namespace: assets.KubeSystem, Labels: lbls, Annotations: ann},
		Spec:       *spec,
	}
	assets.SetContentUID(p)
	plan.Pod = p
	return plan, nil
}

// noAPIReferences refuses environment taken from Secrets or ConfigMaps,
// which a static pod cannot read.
func noAPIReferences(c corev1.Container) error {
	if len(c.EnvFrom) > 0 {
		return fmt.Errorf("envFrom cannot be resolved by a static pod: set the variables in env")
	}
	for _, e := range c.Env {
		if e.ValueFrom != nil && (e.ValueFrom.SecretKeyRef != nil || e.ValueFrom.ConfigMapKeyRef != nil) {
			return fmt.Errorf("env %s comes from a Secret or ConfigMap, which a static pod cannot read: set its value", e.Name)
		}
	}
	return nil
}

// runAs is the user and group the pod's containers run as (the pod's
// securityContext, else the first container's; root when unset): the
// Secret files are theirs, 0600.
func runAs(spec *corev1.PodSpec) (uid, gid int) {
	if sc := spec.SecurityContext; sc != nil {
		if sc.RunAsUser != nil {
			uid = int(*sc.RunAsUser)
		}
		if sc.RunAsGroup != nil {
			gid = int(*sc.RunAsGroup)
		}
	}
	for _, c := range spec.Containers {
		if sc := c.SecurityContext; sc != nil {
			if sc.RunAsUser != nil {
				uid = int(*sc.RunAsUser)
			}
			if sc.RunAsGroup != nil {
				gid = int(*sc.RunAsGroup)
			}
		}
		break
	}
	return uid, gid
}

func (p *staticPlan) fromSecret(v *corev1.Volume, path string, uid, gid int, objs objects) error {
	data, err := objs.secret(v.Secret.SecretName)
	if err != nil {
		if v.Secret.Optional != nil && *v.Secret.Optional {
			data = nil
		} else {
			return fmt.Errorf("volume %s: Secret %s: %w", v.Name, v.Secret.SecretName, err)
		}
	}
	files, err := volumeFiles(data, v.Secret.Items, path)
	if err != nil {
		return fmt.Errorf("volume %s: Secret %s: %w", v.Name, v.Secret.SecretName, err)
	}
	// Private keys and kubeconfigs alike: readable by the pod's user only.
	for i := range files {
		files[i].Mode, files[i].UID, files[i].GID = 0o600, uid, gid
	}
	p.Dirs = append(p.Dirs, dir{Path: path, Mode: 0o700, UID: uid, GID: gid})
	p.Files = append(p.Files, files...)
	v.VolumeSource = hostPathDir(path)
	return nil
}

func (p *staticPlan) fromConfigMap(v *corev1.Volume, path string, objs objects) error {
	data, err := objs.configMap(v.ConfigMap.Name)
	if err != nil {
		if v.ConfigMap.Optional != nil && *v.ConfigMap.Optional {
			data = nil
		} else {
			return fmt.Errorf("volume %s: ConfigMap %s: %w", v.Name, v.ConfigMap.Name, err)
		}
	}
	files, err := volumeFiles(data, v.ConfigMap.Items, path)
	if err != nil {
		return fmt.Errorf("volume %s: ConfigMap %s: %w", v.Name, v.ConfigMap.Name, err)
	}
	for i := range files {
		files[i].Mode = 0o644
	}
	p.Dirs = append(p.Dirs, dir{Path: path, Mode: 0o755})
	p.Files = append(p.Files, files...)
	v.VolumeSource = hostPathDir(path)
	return nil
}

// volumeFiles lays out a volume's keys as the kubelet would: every key
// under its own name, or only the listed items under their paths.
func volumeFiles(data map[string][]byte, items []corev1.KeyToPath, root string) ([]file, error) {
	var out []file
	if len(items) == 0 {
		keys := make([]string, 0, len(data))
		for k := range data {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			out = append(out, file{Path: filepath.Join(root, k), Data: data[k]})
		}
		return out, nil
	}
	for _, it := range items {
		d, ok := data[it.Key]
		if !ok {
			return nil, fmt.Errorf("no key %q", it.Key)
		}
		rel := filepath.Clean(it.Path)
		if filepath.IsAbs(rel) || rel == ".." || strings.HasPrefix(rel, "../") {
			return nil, fmt.Errorf("item path %q leaves the volume", it.Path)
		}
		out = append(out, file{Path: filepath.Join(root, rel), Data: d})
	}
	return out, nil
}

func hostPathDir(path string) corev1.VolumeSource {
	t := corev1.HostPathDirectory
	return corev1.VolumeSource{HostPath: &corev1.HostPathVolumeSource{Path: path, Type: &t}}
}
