package cis

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/runtime"
	utilyaml "k8s.io/apimachinery/pkg/util/yaml"
	"k8s.io/client-go/kubernetes/scheme"

	"github.com/bootstrap-k8s/bootstrap/pkg/assets"
)

// Component is one control-plane container as rendered: its flags and pod.
type Component struct {
	Flags map[string]string // "--name=value" args without the dashes
	Pod   *corev1.PodSpec
}

// Has reports whether a flag is set (to anything).
func (c *Component) Has(name string) bool { _, ok := c.Flags[name]; return ok }

// List splits a comma-separated flag.
func (c *Component) List(name string) []string {
	v, ok := c.Flags[name]
	if !ok || v == "" {
		return nil
	}
	return strings.Split(v, ",")
}

// Inputs is everything the items are computed from.
type Inputs struct {
	APIServer, ControllerManager, Scheduler, Etcd Component
	// Data is every value of every rendered Secret and ConfigMap, by
	// "<kind>/<name>/<key>" (e.g. the AuthenticationConfiguration).
	Data map[string]string
	// Modes are the permission bits of every file of the asset dir, by
	// asset path (tls/ca.key).
	Modes map[string]fs.FileMode
	// SameCA: etcd's CA is the cluster CA.
	SameCA bool

	// Kubelet is the kubelet's configuration (nil: the 4.2 items are not
	// evaluated), KubeletFlags its command-line flags.
	Kubelet      *KubeletConfig
	KubeletFlags map[string]string
}

// LoadAssetDir reads a rendered asset dir.
func LoadAssetDir(dir string) (*Inputs, error) {
	in := &Inputs{Data: map[string]string{}, Modes: map[string]fs.FileMode{}}
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		info, err := d.Info()
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(dir, p)
		in.Modes[filepath.ToSlash(rel)] = info.Mode().Perm()
		return nil
	})
	if err != nil {
		return nil, err
	}
	files, _ := filepath.Glob(filepath.Join(dir, assets.ManifestsDir, "*.yaml"))
	sort.Strings(files)
	files = append(files, assets.Path(dir, assets.EtcdStaticPod))
	for _, f := range files {
		if err := in.readManifest(f); err != nil {
			return nil, err
		}
	}
	for name, c := range map[string]*Component{assets.KubeAPIServer: &in.APIServer, assets.KubeControllerManager: &in.ControllerManager,
		assets.KubeScheduler: &in.Scheduler, "etcd": &in.Etcd} {
		if c.Pod == nil {
			return nil, fmt.Errorf("%s: no %s workload in the rendered manifests", dir, name)
		}
	}
	clusterCA, err1 := os.ReadFile(assets.Path(dir, "tls/ca.crt"))
	etcdCA, err2 := os.ReadFile(assets.Path(dir, "tls/etcd/ca.crt"))
	if err := errors.Join(err1, err2); err != nil {
		return nil, err
	}
	in.SameCA = bytes.Equal(bytes.TrimSpace(clusterCA), bytes.TrimSpace(etcdCA))
	return in, nil
}

func (in *Inputs) readManifest(path string) error {
	data, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	decoder := scheme.Codecs.UniversalDeserializer()
	r := utilyaml.NewYAMLReader(bufio.NewReader(bytes.NewReader(data)))
	for {
		doc, err := r.Read()
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return fmt.Errorf("%s: %w", path, err)
		}
		if len(bytes.TrimSpace(doc)) == 0 {
			continue
		}
		obj, _, err := decoder.Decode(doc, nil, nil)
		if err != nil {
			continue // kinds outside client-go's scheme (CRDs) hold no control-plane flags
		}
		in.add(obj)
	}
}

func (in *Inputs) add(obj runtime.Object) {
	switch o := obj.(type) {
	case *appsv1.DaemonSet:
		in.component(o.Name, &o.Spec.Template.Spec)
	case *appsv1.Deployment:
		in.component(o.Name, &o.Spec.Template.Spec)
	case *corev1.Pod:
		in.component(o.Labels[assets.ComponentLabel], &o.Spec)
	case *corev1.Secret:
		for k, v := range o.Data {
			in.Data["Secret/"+o.Name+"/"+k] = string(v)
		}
	case *corev1.ConfigMap:
		for k, v := range o.Data {
			in.Data["ConfigMap/"+o.Name+"/"+k] = v
		}
	}
}

func (in *Inputs) component(name string, spec *corev1.PodSpec) {
	var c *Component
	switch name {
	case assets.KubeAPIServer:
		c = &in.APIServer
	case assets.KubeControllerManager:
		c = &in.ControllerManager
	case assets.KubeScheduler:
		c = &in.Scheduler
	case "etcd":
		c = &in.Etcd
	default:
		return
	}
	c.Pod = spec
	c.Flags = ParseFlags(append(append([]string{}, spec.Containers[0].Command...), spec.Containers[0].Args...))
}

// ParseFlags turns "--name=value" arguments (and bare "--name", which means
// true) into a map; other arguments are ignored.
func ParseFlags(argv []string) map[string]string {
	out := map[string]string{}
	for _, a := range argv {
		if !strings.HasPrefix(a, "--") {
			continue
		}
		k, v, ok := strings.Cut(strings.TrimPrefix(a, "--"), "=")
		if !ok {
			v = "true"
		}
		out[k] = v
	}
	return out
}
