package assets

import (
	"fmt"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/utils/ptr"
)

// kubeProxy renders kube-proxy's Secret (a client-certificate kubeconfig, so
// it needs no service-account token and can run before a controller-manager
// exists), its configuration and its DaemonSet.
func (r *renderer) kubeProxy(k *Kubeconfigs) ([]runtime.Object, error) {
	secret := r.secret(KubeProxy, KubeProxy, map[string][]byte{"kubeconfig": k.KubeProxy})
	conf := fmt.Sprintf(`apiVersion: kubeproxy.config.k8s.io/v1alpha1
kind: KubeProxyConfiguration
clientConnection:
  kubeconfig: /var/lib/kube-proxy/secret/kubeconfig
clusterCIDR: %s
mode: iptables
conntrack:
  maxPerCore: 0
`, r.cfg.Networking.PodCIDR)
	cm := &corev1.ConfigMap{
		TypeMeta:   metav1.TypeMeta{APIVersion: "v1", Kind: "ConfigMap"},
		ObjectMeta: r.meta(KubeProxy, KubeProxy),
		Data:       map[string]string{"config.conf": conf},
	}
	labels := map[string]string{ComponentLabel: KubeProxy}
	spec := corev1.PodSpec{
		HostNetwork:                  true,
		PriorityClassName:            "system-node-critical",
		AutomountServiceAccountToken: ptr.To(false),
		ServiceAccountName:           KubeProxy,
		NodeSelector:                 map[string]string{"kubernetes.io/os": "linux"},
		Tolerations:                  []corev1.Toleration{{Operator: corev1.TolerationOpExists}},
		Containers: []corev1.Container{{
			Name:    KubeProxy,
			Image:   r.cfg.Images.KubeProxy,
			Command: []string{"/usr/local/bin/kube-proxy"},
			Args:    args(map[string]string{"config": "/var/lib/kube-proxy/config/config.conf", "hostname-override": "$(NODE_NAME)"}, r.cfg.Proxy.ExtraArgs),
			Env: []corev1.EnvVar{{Name: "NODE_NAME", ValueFrom: &corev1.EnvVarSource{
				FieldRef: &corev1.ObjectFieldSelector{APIVersion: "v1", FieldPath: "spec.nodeName"},
			}}},
			Resources:       resources("50m", "32Mi"),
			ReadinessProbe:  readinessEvery(2, httpProbe("", 10256, "/healthz", corev1.URISchemeHTTP, 0, 3)),
			LivenessProbe:   httpProbe("", 10256, "/livez", corev1.URISchemeHTTP, 15, 8),
			SecurityContext: &corev1.SecurityContext{Privileged: ptr.To(true)},
			VolumeMounts: []corev1.VolumeMount{
				{Name: "secret", MountPath: "/var/lib/kube-proxy/secret", ReadOnly: true},
				{Name: "config", MountPath: "/var/lib/kube-proxy/config", ReadOnly: true},
				{Name: "xtables-lock", MountPath: "/run/xtables.lock"},
				{Name: "lib-modules", MountPath: "/lib/modules", ReadOnly: true},
			},
		}},
		Volumes: []corev1.Volume{
			secretVolume("secret", KubeProxy),
			configMapVolume("config", KubeProxy),
			hostPathVolume("xtables-lock", "/run/xtables.lock", corev1.HostPathFileOrCreate),
			hostPathVolume("lib-modules", "/lib/modules", corev1.HostPathDirectoryOrCreate),
		},
	}
	completePodSpec(&spec)
	ds := daemonSet(metav1.ObjectMeta{Name: KubeProxy, Namespace: KubeSystem, Labels: labels}, labels, spec, 0, 1)
	return []runtime.Object{r.serviceAccount(KubeProxy, KubeProxy), secret, cm, ds}, nil
}
