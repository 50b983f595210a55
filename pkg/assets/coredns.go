package assets

import (
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	policyv1 "k8s.io/api/policy/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/utils/ptr"

	"github.com/bootstrap-k8s/bootstrap/manifests"
)

// ClusterDNSServiceIndex is the service CIDR offset of the cluster DNS Service.
const ClusterDNSServiceIndex = 10

// coreDNS renders cluster DNS: its RBAC, Corefile, Deployment, Service, PDB.
// Unlike the control plane it uses a service-account token: it starts after
// the controller-manager exists.
func (r *renderer) coreDNS() ([]runtime.Object, error) {
	dnsIP, err := ServiceIP(r.cfg.Networking.ServiceCIDR, ClusterDNSServiceIndex)
	if err != nil {
		return nil, err
	}
	corefile, err := manifests.Corefile(r.cfg.Networking.DNSDomain)
	if err != nil {
		return nil, err
	}
	labels := map[string]string{"k8s-app": "kube-dns"}
	meta := func(name string) metav1.ObjectMeta {
		return metav1.ObjectMeta{Name: name, Namespace: KubeSystem, Labels: labels}
	}
	sa := &corev1.ServiceAccount{TypeMeta: metav1.TypeMeta{APIVersion: "v1", Kind: "ServiceAccount"}, ObjectMeta: meta(CoreDNS)}
	role := &rbacv1.ClusterRole{
		TypeMeta:   metav1.TypeMeta{APIVersion: "rbac.authorization.k8s.io/v1", Kind: "ClusterRole"},
		ObjectMeta: metav1.ObjectMeta{Name: "system:coredns", Labels: labels},
		Rules: []rbacv1.PolicyRule{
			{APIGroups: []string{""}, Resources: []string{"endpoints", "services", "pods", "namespaces"}, Verbs: []string{"list", "watch"}},
			{APIGroups: []string{"discovery.k8s.io"}, Resources: []string{"endpointslices"}, Verbs: []string{"list", "watch"}},
		},
	}
	binding := &rbacv1.ClusterRoleBinding{
		TypeMeta:   metav1.TypeMeta{APIVersion: "rbac.authorization.k8s.io/v1", Kind: "ClusterRoleBinding"},
		ObjectMeta: metav1.ObjectMeta{Name: "system:coredns", Labels: labels},
		RoleRef:    rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "ClusterRole", Name: "system:coredns"},
		Subjects:   []rbacv1.Subject{{Kind: rbacv1.ServiceAccountKind, Name: CoreDNS, Namespace: KubeSystem}},
	}
	cm := &corev1.ConfigMap{
		TypeMeta:   metav1.TypeMeta{APIVersion: "v1", Kind: "ConfigMap"},
		ObjectMeta: meta(CoreDNS),
		Data:       map[string]string{"Corefile": corefile},
	}
	svc := &corev1.Service{
		TypeMeta:   metav1.TypeMeta{APIVersion: "v1", Kind: "Service"},
		ObjectMeta: meta("kube-dns"),
		Spec: corev1.ServiceSpec{
			Selector:  labels,
			ClusterIP: dnsIP.String(),
			Type:      corev1.ServiceTypeClusterIP,
			Ports: []corev1.ServicePort{
				{Name: "dns", Port: 53, TargetPort: intstr.FromInt32(53), Protocol: corev1.ProtocolUDP},
				{Name: "dns-tcp", Port: 53, TargetPort: intstr.FromInt32(53), Protocol: corev1.ProtocolTCP},
				{Name: "metrics", Port: 9153, TargetPort: intstr.FromInt32(9153), Protocol: corev1.ProtocolTCP},
			},
		},
	}
	pdb := &policyv1.PodDisruptionBudget{
		TypeMeta:   metav1.TypeMeta{APIVersion: "policy/v1", Kind: "PodDisruptionBudget"},
		ObjectMeta: meta(CoreDNS),
		Spec: policyv1.PodDisruptionBudgetSpec{
			MinAvailable: ptr.To(intstr.FromInt32(1)),
			Selector:     &metav1.LabelSelector{MatchLabels: labels},
		},
	}
	return []runtime.Object{sa, role, binding, cm, r.coreDNSDeployment(labels), svc, pdb}, nil
}

func (r *renderer) coreDNSDeployment(labels map[string]string) *appsv1.Deployment {
	spec := corev1.PodSpec{
		ServiceAccountName: CoreDNS,
		PriorityClassName:  "system-cluster-critical",
		DNSPolicy:          corev1.DNSDefault,
		NodeSelector:       map[string]string{"kubernetes.io/os": "linux"},
		Tolerations: []corev1.Toleration{
			{Key: "CriticalAddonsOnly", Operator: corev1.TolerationOpExists},
			{Key: ControlPlaneNodeLabel, Operator: corev1.TolerationOpExists, Effect: corev1.TaintEffectNoSchedule},
		},
		Affinity: preferSpread(labels),
		Containers: []corev1.Container{{
			Name:  CoreDNS,
			Image: r.cfg.Images.CoreDNS,
			Args:  []string{"-conf", "/etc/coredns/Corefile"},
			Ports: []corev1.ContainerPort{
				{Name: "dns", ContainerPort: 53, Protocol: corev1.ProtocolUDP},
				{Name: "dns-tcp", ContainerPort: 53, Protocol: corev1.ProtocolTCP},
				{Name: "metrics", ContainerPort: 9153, Protocol: corev1.ProtocolTCP},
			},
			Resources: corev1.ResourceRequirements{
				Requests: resources("100m", "70Mi").Requests,
				Limits:   corev1.ResourceList{corev1.ResourceMemory: resource.MustParse("170Mi")},
			},
			LivenessProbe:  httpProbe("", 8080, "/health", corev1.URISchemeHTTP, 60, 5),
			ReadinessProbe: readinessEvery(2, httpProbe("", 8181, "/ready", corev1.URISchemeHTTP, 0, 3)),
			SecurityContext: &corev1.SecurityContext{
				AllowPrivilegeEscalation: ptr.To(false),
				ReadOnlyRootFilesystem:   ptr.To(true),
				Capabilities: &corev1.Capabilities{
					Add:  []corev1.Capability{"NET_BIND_SERVICE"},
					Drop: []corev1.Capability{"ALL"},
				},
			},
			VolumeMounts: []corev1.VolumeMount{{Name: "config", MountPath: "/etc/coredns", ReadOnly: true}},
		}},
		Volumes: []corev1.Volume{configMapVolume("config", CoreDNS)},
	}
	completePodSpec(&spec)
	return deployment(metav1.ObjectMeta{Name: CoreDNS, Namespace: KubeSystem, Labels: labels}, labels, spec, 2, 1, 1)
}
