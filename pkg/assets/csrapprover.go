package assets

import (
	"fmt"

	certificatesv1 "k8s.io/api/certificates/v1"
	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/utils/ptr"
)

// CSRApprover approves kubelet serving-certificate requests (pkg/csrapprover):
// kube-controller-manager signs kubernetes.io/kubelet-serving requests but
// never approves them, and kube-apiserver verifies kubelets against the
// cluster CA (--kubelet-certificate-authority), so without it no kubelet
// would serve `kubectl logs` or `exec`.
const (
	CSRApprover = "bootstrap-csr-approver"
	// csrApproverHealthPort is where `bootstrap csr-approver` answers its
	// probes, on loopback (the pod is on the host network).
	csrApproverHealthPort = 10271
)

// csrApprover renders the approver's ServiceAccount, RBAC and Deployment.
//
// Its RBAC is the least the job needs: read requests, update their approval,
// `approve` for the kubelet-serving signer only, get the requester's Node,
// and its own Lease.
func (r *renderer) csrApprover() ([]runtime.Object, error) {
	sa := r.serviceAccount(CSRApprover, CSRApprover)
	// It authenticates with its ServiceAccount token (TokenRequest, after the
	// hand-over), unlike the components that run before kube-apiserver does.
	sa.AutomountServiceAccountToken = ptr.To(true)
	subject := []rbacv1.Subject{{Kind: rbacv1.ServiceAccountKind, Name: CSRApprover, Namespace: KubeSystem}}
	roleRef := func(kind string) rbacv1.RoleRef {
		return rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: kind, Name: CSRApprover}
	}
	clusterRole := &rbacv1.ClusterRole{
		TypeMeta:   metav1.TypeMeta{APIVersion: "rbac.authorization.k8s.io/v1", Kind: "ClusterRole"},
		ObjectMeta: metav1.ObjectMeta{Name: CSRApprover, Labels: componentLabels(CSRApprover)},
		Rules: []rbacv1.PolicyRule{
			{APIGroups: []string{certificatesv1.GroupName}, Resources: []string{"certificatesigningrequests"}, Verbs: []string{"get", "list", "watch"}},
			{APIGroups: []string{certificatesv1.GroupName}, Resources: []string{"certificatesigningrequests/approval"}, Verbs: []string{"update"}},
			{APIGroups: []string{certificatesv1.GroupName}, Resources: []string{"signers"}, ResourceNames: []string{certificatesv1.KubeletServingSignerName}, Verbs: []string{"approve"}},
			{APIGroups: []string{""}, Resources: []string{"nodes"}, Verbs: []string{"get"}},
		},
	}
	clusterBinding := &rbacv1.ClusterRoleBinding{
		TypeMeta:   metav1.TypeMeta{APIVersion: "rbac.authorization.k8s.io/v1", Kind: "ClusterRoleBinding"},
		ObjectMeta: metav1.ObjectMeta{Name: CSRApprover, Labels: componentLabels(CSRApprover)},
		RoleRef:    roleRef("ClusterRole"),
		Subjects:   subject,
	}
	// create cannot be limited to a name; get/update can.
	role := &rbacv1.Role{
		TypeMeta:   metav1.TypeMeta{APIVersion: "rbac.authorization.k8s.io/v1", Kind: "Role"},
		ObjectMeta: r.meta(CSRApprover, CSRApprover),
		Rules: []rbacv1.PolicyRule{
			{APIGroups: []string{"coordination.k8s.io"}, Resources: []string{"leases"}, Verbs: []string{"create"}},
			{APIGroups: []string{"coordination.k8s.io"}, Resources: []string{"leases"}, ResourceNames: []string{CSRApprover}, Verbs: []string{"get", "update"}},
		},
	}
	binding := &rbacv1.RoleBinding{
		TypeMeta:   metav1.TypeMeta{APIVersion: "rbac.authorization.k8s.io/v1", Kind: "RoleBinding"},
		ObjectMeta: r.meta(CSRApprover, CSRApprover),
		RoleRef:    roleRef("Role"),
		Subjects:   subject,
	}
	return []runtime.Object{sa, clusterRole, clusterBinding, role, binding, r.csrApproverDeployment()}, nil
}

// csrApproverDeployment runs one leader-elected replica on the control-plane
// nodes, on the host network so that it reaches kube-apiserver on loopback
// like the controller-manager does (no dependence on kube-proxy or the pod
// network). A pod that is down only delays new serving certificates: kubelets
// keep their current one and retry. Roll-outs replace it (maxSurge 0): two
// pods of one node would share the health port.
func (r *renderer) csrApproverDeployment() runtime.Object {
	c := r.cfg
	labels := componentLabels(CSRApprover)
	probe := func(failures int32) *corev1.Probe {
		return httpProbe("127.0.0.1", csrApproverHealthPort, "/healthz", corev1.URISchemeHTTP, 0, failures)
	}
	spec := corev1.PodSpec{
		HostNetwork:                  true,
		DNSPolicy:                    corev1.DNSClusterFirstWithHostNet,
		PriorityClassName:            "system-cluster-critical",
		AutomountServiceAccountToken: ptr.To(true),
		ServiceAccountName:           CSRApprover,
		NodeSelector:                 map[string]string{ControlPlaneNodeLabel: ""},
		Tolerations:                  controlPlaneTolerations(),
		SecurityContext: &corev1.PodSecurityContext{
			RunAsNonRoot:   ptr.To(true),
			RunAsUser:      ptr.To[int64](65532),
			RunAsGroup:     ptr.To[int64](65532),
			SeccompProfile: &corev1.SeccompProfile{Type: corev1.SeccompProfileTypeRuntimeDefault},
		},
		Containers: []corev1.Container{{
			Name:    "csr-approver",
			Image:   c.Images.Bootstrap,
			Command: []string{"/usr/local/bin/bootstrap", "csr-approver", fmt.Sprintf("--healthz-address=127.0.0.1:%d", csrApproverHealthPort)},
			// In-cluster config, pointed at this node's kube-apiserver.
			Env: []corev1.EnvVar{
				{Name: "KUBERNETES_SERVICE_HOST", Value: loopbackFor(c.APIServer.AdvertiseAddress)},
				{Name: "KUBERNETES_SERVICE_PORT", Value: fmt.Sprint(c.APIServer.BindPort)},
			},
			Resources:      resources("10m", "32Mi"),
			LivenessProbe:  probe(6),
			ReadinessProbe: readinessEvery(2, probe(3)),
			SecurityContext: &corev1.SecurityContext{
				AllowPrivilegeEscalation: ptr.To(false),
				ReadOnlyRootFilesystem:   ptr.To(true),
				Capabilities:             &corev1.Capabilities{Drop: []corev1.Capability{"ALL"}},
			},
		}},
	}
	spec.Containers[0].LivenessProbe.TimeoutSeconds = 5
	spec.Containers[0].ReadinessProbe.TimeoutSeconds = 5
	completePodSpec(&spec)
	return deployment(r.meta(CSRApprover, CSRApprover), labels, spec, 1, 0, 1)
}
