package assets

import (
	"fmt"

	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/utils/ptr"

	"github.com/bootstrap-k8s/bootstrap/pkg/apis/bootstrap/v1alpha1"
)

// Flannel is the multi-node pod network render can add (networking.cni:
// flannel). The default, bridge, is node-local configuration (a CNI conflist
// in /etc/cni/net.d) and needs no manifest.
const Flannel = "kube-flannel"

// flannel renders flannel's RBAC, configuration and DaemonSet (VXLAN backend).
func (r *renderer) flannel() ([]runtime.Object, error) {
	if r.cfg.Networking.CNI != v1alpha1.CNIFlannel {
		return nil, nil
	}
	labels := map[string]string{"app": "flannel"}
	meta := func(name string) metav1.ObjectMeta {
		return metav1.ObjectMeta{Name: name, Namespace: Flannel, Labels: labels}
	}
	ns := &corev1.Namespace{TypeMeta: metav1.TypeMeta{APIVersion: "v1", Kind: "Namespace"}, ObjectMeta: metav1.ObjectMeta{Name: Flannel}}
	sa := &corev1.ServiceAccount{TypeMeta: metav1.TypeMeta{APIVersion: "v1", Kind: "ServiceAccount"}, ObjectMeta: meta("flannel")}
	role := &rbacv1.ClusterRole{
		TypeMeta:   metav1.TypeMeta{APIVersion: "rbac.authorization.k8s.io/v1", Kind: "ClusterRole"},
		ObjectMeta: metav1.ObjectMeta{Name: "flannel", Labels: labels},
		Rules: []rbacv1.PolicyRule{
			{APIGroups: []string{""}, Resources: []string{"pods"}, Verbs: []string{"get"}},
			{APIGroups: []string{""}, Resources: []string{"nodes"}, Verbs: []string{"get", "list", "watch"}},
			{APIGroups: []string{""}, Resources: []string{"nodes/status"}, Verbs: []string{"patch"}},
		},
	}
	binding := &rbacv1.ClusterRoleBinding{
		TypeMeta:   metav1.TypeMeta{APIVersion: "rbac.authorization.k8s.io/v1", Kind: "ClusterRoleBinding"},
		ObjectMeta: metav1.ObjectMeta{Name: "flannel", Labels: labels},
		RoleRef:    rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "ClusterRole", Name: "flannel"},
		Subjects:   []rbacv1.Subject{{Kind: rbacv1.ServiceAccountKind, Name: "flannel", Namespace: Flannel}},
	}
	cm := &corev1.ConfigMap{
		TypeMeta:   metav1.TypeMeta{APIVersion: "v1", Kind: "ConfigMap"},
		ObjectMeta: meta("kube-flannel-cfg"),
		Data: map[string]string{
			"cni-conf.json": `{"name":"cbr0","cniVersion":"0.3.1","plugins":[{"type":"flannel","delegate":{"hairpinMode":true,"isDefaultGateway":true}},{"type":"portmap","capabilities":{"portMappings":true}}]}`,
			"net-conf.json": fmt.Sprintf(`{"Network":%q,"EnableNFTables":false,"Backend":{"Type":"vxlan"}}`, r.cfg.Networking.PodCIDR),
		},
	}
	image := r.cfg.Images.Flannel
	spec := corev1.PodSpec{
		HostNetwork:        true,
		PriorityClassName:  "system-node-critical",
		ServiceAccountName: "flannel",
		// Every taint, as kube-proxy: a node without its CNI breaks the pods
		// that do tolerate the taint (docs/design.md, "Taints").
		Tolerations: []corev1.Toleration{{Operator: corev1.TolerationOpExists}},
		// As upstream's kube-flannel.yml: the flannel CNI plugin (which reads
		// /run/flannel/subnet.env and delegates to bridge + host-local) goes
		// into the node's CNI bin dir, then the conflist that names it. The
		// image carries both (hack/tools/imgtool -flannel-image).
		InitContainers: []corev1.Container{{
			Name: "install-cni-plugin", Image: image,
			Command:      []string{"cp", "-f", "/flannel", "/opt/cni/bin/flannel"},
			VolumeMounts: []corev1.VolumeMount{{Name: "cni-plugin", MountPath: "/opt/cni/bin"}},
		}, {
			Name: "install-cni", Image: image,
			Command:      []string{"cp", "-f", "/etc/kube-flannel/cni-conf.json", "/etc/cni/net.d/10-flannel.conflist"},
			VolumeMounts: []corev1.VolumeMount{{Name: "cni", MountPath: "/etc/cni/net.d"}, {Name: "flannel-cfg", MountPath: "/etc/kube-flannel/"}},
		}},
		Containers: []corev1.Container{{
			Name: "kube-flannel", Image: image,
			Command: []string{"/opt/bin/flanneld", "--ip-masq", "--kube-subnet-mgr"},
			Env: []corev1.EnvVar{
				{Name: "POD_NAME", ValueFrom: &corev1.EnvVarSource{FieldRef: &corev1.ObjectFieldSelector{APIVersion: "v1", FieldPath: "metadata.name"}}},
				{Name: "POD_NAMESPACE", ValueFrom: &corev1.EnvVarSource{FieldRef: &corev1.ObjectFieldSelector{APIVersion: "v1", FieldPath: "metadata.namespace"}}},
			},
			Resources:       resources("100m", "50Mi"),
			ReadinessProbe:  &corev1.Probe{ProbeHandler: corev1.ProbeHandler{Exec: &corev1.ExecAction{Command: []string{"/opt/bin/flanneld", "--version"}}}, PeriodSeconds: 30, TimeoutSeconds: 5, SuccessThreshold: 1, FailureThreshold: 3},
			SecurityContext: &corev1.SecurityContext{Privileged: ptr.To(false), Capabilities: &corev1.Capabilities{Add: []corev1.Capability{"NET_ADMIN", "NET_RAW"}}},
			VolumeMounts: []corev1.VolumeMount{
				{Name: "run", MountPath: "/run/flannel"},
				{Name: "flannel-cfg", MountPath: "/etc/kube-flannel/"},
				{Name: "xtables-lock", MountPath: "/run/xtables.lock"},
			},
		}},
		Volumes: []corev1.Volume{
			hostPathVolume("run", "/run/flannel", corev1.HostPathDirectoryOrCreate),
			hostPathVolume("cni-plugin", "/opt/cni/bin", corev1.HostPathDirectoryOrCreate),
			hostPathVolume("cni", "/etc/cni/net.d", corev1.HostPathDirectoryOrCreate),
			configMapVolume("flannel-cfg", "kube-flannel-cfg"),
			hostPathVolume("xtables-lock", "/run/xtables.lock", corev1.HostPathFileOrCreate),
		},
	}
	completePodSpec(&spec)
	ds := daemonSet(meta("kube-flannel-ds"), labels, spec, 0, 1)
	return []runtime.Object{ns, sa, role, binding, cm, ds}, nil
}
