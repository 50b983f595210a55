package assets

import (
	"bytes"
	"fmt"
	"os"
	"sort"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"sigs.k8s.io/yaml"

	"github.com/bootstrap-k8s/bootstrap/pkg/apis/bootstrap/v1alpha1"
)

// File is one rendered file: an asset path, its content and its mode.
type File struct {
	Path string
	Data []byte
	Mode os.FileMode
}

// Names of the self-hosted workloads and their Secrets and ConfigMaps.
const (
	KubeSystem            = "kube-system"
	KubeAPIServer         = "kube-apiserver"
	KubeControllerManager = "kube-controller-manager"
	KubeScheduler         = "kube-scheduler"
	KubeProxy             = "kube-proxy"
	CoreDNS               = "coredns"
	// ComponentLabel selects a control-plane component's pods; matching is by
	// label, never by name prefix.
	ComponentLabel = "component"
	TierLabel      = "tier"
	ControlPlane   = "control-plane"
	// StaticPodLabel marks the control-plane static pods of `bootstrap
	// pivot --to static-pods` (and their mirror pods), which carry no
	// other label of the workloads' selectors.
	StaticPodLabel = "bootstrap.dev/static-pod"
	// FieldManager owns what bootstrap applies with server-side apply.
	FieldManager = "bootstrap"
	// DaemonSetTemplateGenerationAnnotation is where the apiserver records a
	// DaemonSet's template generation; its controller labels the pods it
	// creates with it (DaemonSetTemplateGenerationLabel) and counts a pod so
	// labelled as current (k8s.io/kubernetes pkg/controller/daemon/util).
	DaemonSetTemplateGenerationAnnotation = "deprecated.daemonset.template.generation"
	DaemonSetTemplateGenerationLabel      = "pod-template-generation"
)

// manifests renders manifests/ and static/: typed objects, one file per component.
func (r *renderer) manifests(p *PKI, k *Kubeconfigs, encryption []byte) ([]File, error) {
	type group struct {
		path    string
		objects func() ([]runtime.Object, error)
	}
	groups := []group{
		{"manifests/00-namespaces.yaml", r.namespaces},
		{"manifests/01-rbac.yaml", r.rbac},
		{"manifests/02-bootstrap-token.yaml", func() ([]runtime.Object, error) { return r.bootstrapTokenSecret(k.BootstrapToken) }},
		{"manifests/03-cluster-info.yaml", func() ([]runtime.Object, error) { return r.clusterInfo(encodeCert(p.CA.Cert)) }},
		{"manifests/04-kubelet-config.yaml", r.kubeletConfig},
		{"manifests/10-kube-apiserver.yaml", func() ([]runtime.Object, error) { return r.apiServer(p, encryption) }},
		{"manifests/11-kube-controller-manager.yaml", func() ([]runtime.Object, error) { return r.controllerManager(p, k) }},
		{"manifests/12-kube-scheduler.yaml", func() ([]runtime.Object, error) { return r.scheduler(k) }},
		{"manifests/13-kube-proxy.yaml", func() ([]runtime.Object, error) { return r.kubeProxy(k) }},
		{"manifests/14-csr-approver.yaml", r.csrApprover},
		{"manifests/20-coredns.yaml", r.coreDNS},
		{"manifests/30-flannel.yaml", r.flannel},
		{EtcdStaticPod, r.etcdStaticPod},
	}
	var files []File
	for _, g := range groups {
		objs, err := g.objects()
		if err != nil {
			return nil, fmt.Errorf("rendering %s: %w", g.path, err)
		}
		if len(objs) == 0 {
			continue
		}
		data, err := EncodeYAML(objs...)
		if err != nil {
			return nil, fmt.Errorf("rendering %s: %w", g.path, err)
		}
		// A manifest with a Secret holds credentials (private keys, tokens,
		// kubeconfigs, the encryption key): as private as the key files.
		mode := os.FileMode(0o644)
		for _, o := range objs {
			if _, ok := o.(*corev1.Secret); ok {
				mode = 0o600
			}
		}
		files = append(files, File{Path: g.path, Data: data, Mode: mode})
	}
	return files, nil
}

// EncodeYAML writes objects as a multi-document YAML stream without the
// empty status and creationTimestamp fields that typed structs carry.
func EncodeYAML(objs ...runtime.Object) ([]byte, error) {
	var buf bytes.Buffer
	for i, o := range objs {
		u, err := runtime.DefaultUnstructuredConverter.ToUnstructured(o)
		if err != nil {
			return nil, err
		}
		prune(u)
		data, err := yaml.Marshal(u)
		if err != nil {
			return nil, err
		}
		if i > 0 {
			buf.WriteString("---\n")
		}
		buf.Write(data)
	}
	return buf.Bytes(), nil
}

// prune drops null and empty values that typed structs marshal but that
// carry no meaning (status: {}, creationTimestamp: null, resources: {}).
func prune(v any) any {
	switch t := v.(type) {
	case map[string]any:
		for k, val := range t {
			if val == nil {
				delete(t, k)
				continue
			}
			val = prune(val)
			if m, ok := val.(map[string]any); ok && len(m) == 0 && prunableEmpty[k] {
				delete(t, k)
				continue
			}
			t[k] = val
		}
		return t
	case []any:
		for i := range t {
			t[i] = prune(t[i])
		}
	}
	return v
}

// prunableEmpty are keys whose empty object means the same as absent. Other
// empty objects (emptyDir: {}, securityContext: {}) are kept: they matter.
var prunableEmpty = map[string]bool{"status": true, "resources": true, "metadata": false, "strategy": false}

// args turns a flag map into a sorted "--name=value" list after applying the
// user's extra args. Validation refuses extra args for the flags render
// manages and values that would weaken security; of the rest, a list flag
// render sets too (v1alpha1.MergedListFlags, e.g. enable-admission-plugins)
// gets the union of both lists, any other flag the user's value.
func args(base map[string]string, extra map[string]string) []string {
	m := make(map[string]string, len(base)+len(extra))
	for k, v := range base {
		m[k] = v
	}
	for k, v := range extra {
		if own, ok := base[k]; ok && v1alpha1.MergedListFlags[k] {
			v = v1alpha1.MergeList(own, v)
		}
		m[k] = v
	}
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	out := make([]string, 0, len(keys))
	for _, k := range keys {
		out = append(out, "--"+k+"="+m[k])
	}
	return out
}
