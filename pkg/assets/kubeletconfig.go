package assets

import (
	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"sigs.k8s.io/yaml"

	"github.com/bootstrap-k8s/bootstrap/pkg/apis/bootstrap/v1alpha1"
)

const (
	// KubeletConfigMap in kube-system holds the kubelet settings every node
	// of the cluster shares (kubeadm's kubelet-config); `bootstrap join`
	// reads it with the bootstrap token.
	KubeletConfigMap = "kubelet-config"
	// KubeletConfigKey is the ConfigMap's key of the KubeletConfiguration.
	KubeletConfigKey = "kubelet"
	// KubeletClientCAPlaceholder is the clientCAFile of the shared settings;
	// join replaces it with where it writes the cluster CA on the node.
	KubeletClientCAPlaceholder = "/etc/kubernetes/pki/ca.crt"
)

// KubeletClusterConfig is the part of a kubelet's configuration (a
// kubelet.config.k8s.io/v1beta1 KubeletConfiguration, as a map so that
// exactly these fields are set) that is the cluster's, not the node's: how
// the kubelet authenticates and authorizes callers (client certificates of
// the cluster CA and the apiserver's webhooks, never anonymous), its
// certificates (client rotation, serving certificate from the cluster CA),
// TLS, the cluster DNS. The node adds its own (container runtime, cgroup
// driver, paths, ports).
func KubeletClusterConfig(cfg *v1alpha1.BootstrapConfiguration) (map[string]any, error) {
	dnsIP, err := ServiceIP(cfg.Networking.ServiceCIDR, ClusterDNSServiceIndex)
	if err != nil {
		return nil, err
	}
	return map[string]any{
		"apiVersion": "kubelet.config.k8s.io/v1beta1",
		"kind":       "KubeletConfiguration",
		"authentication": map[string]any{
			"anonymous": map[string]any{"enabled": false},
			"webhook":   map[string]any{"enabled": true},
			"x509":      map[string]any{"clientCAFile": KubeletClientCAPlaceholder},
		},
		"authorization":      map[string]any{"mode": "Webhook"},
		"clusterDNS":         []any{dnsIP.String()},
		"clusterDomain":      cfg.Networking.DNSDomain,
		"rotateCertificates": true,
		"serverTLSBootstrap": true,
		"readOnlyPort":       0,
		"tlsMinVersion":      v1alpha1.MinTLSVersion,
		"tlsCipherSuites":    toAny(v1alpha1.TLSCipherSuites),
		"podPidsLimit":       4096,
	}, nil
}

func toAny(s []string) []any {
	out := make([]any, len(s))
	for i, v := range s {
		out[i] = v
	}
	return out
}

// kubeletConfig renders the kubelet-config ConfigMap and the Role that lets
// joining nodes (bootstrap tokens) and nodes read it.
func (r *renderer) kubeletConfig() ([]runtime.Object, error) {
	kc, err := KubeletClusterConfig(r.cfg)
	if err != nil {
		return nil, err
	}
	data, err := yaml.Marshal(kc)
	if err != nil {
		return nil, err
	}
	const name = "bootstrap:kubelet-config-reader"
	cm := &corev1.ConfigMap{
		TypeMeta:   metav1.TypeMeta{APIVersion: "v1", Kind: "ConfigMap"},
		ObjectMeta: metav1.ObjectMeta{Name: KubeletConfigMap, Namespace: KubeSystem},
		Data:       map[string]string{KubeletConfigKey: string(data)},
	}
	role := &rbacv1.Role{
		TypeMeta:   metav1.TypeMeta{APIVersion: "rbac.authorization.k8s.io/v1", Kind: "Role"},
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: KubeSystem},
		Rules: []rbacv1.PolicyRule{{
			APIGroups: []string{""}, Resources: []string{"configmaps"},
			ResourceNames: []string{KubeletConfigMap}, Verbs: []string{"get"},
		}},
	}
	group := func(n string) rbacv1.Subject {
		return rbacv1.Subject{Kind: rbacv1.GroupKind, APIGroup: rbacv1.GroupName, Name: n}
	}
	binding := &rbacv1.RoleBinding{
		TypeMeta:   metav1.TypeMeta{APIVersion: "rbac.authorization.k8s.io/v1", Kind: "RoleBinding"},
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: KubeSystem},
		RoleRef:    rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "Role", Name: name},
		Subjects:   []rbacv1.Subject{group("system:bootstrappers"), group(NodesGroup)},
	}
	return []runtime.Object{cm, role, binding}, nil
}
