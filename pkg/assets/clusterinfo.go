package assets

import (
	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	bootstrapapi "k8s.io/cluster-bootstrap/token/api"
)

// KubePublic is the namespace every client may read parts of (cluster-info).
const KubePublic = "kube-public"

// ClusterInfoPath is the one path anonymous requests may read besides the
// health endpoints: a joining node has no credential the apiserver trusts yet,
// and must not send its bootstrap token to a server it has not verified.
const ClusterInfoPath = "/api/v1/namespaces/" + KubePublic + "/configmaps/" + bootstrapapi.ConfigMapClusterInfo

// clusterInfo renders what `bootstrap join` discovers the cluster by, as
// kubeadm does: the cluster-info ConfigMap in kube-public (a kubeconfig with
// the server URL and the cluster CA, no credential), which the bootstrap
// signer controller signs with every bootstrap token that has the signing
// usage (jws-kubeconfig-<token id>), and a Role that lets anonymous requests
// get exactly that ConfigMap. The joining node checks the signature with its
// token and pins the CA by hash before it trusts the server.
func (r *renderer) clusterInfo(caPEM []byte) ([]runtime.Object, error) {
	kubeconfig, err := r.kubeconfigWithoutUser(caPEM)
	if err != nil {
		return nil, err
	}
	const name = "bootstrap:cluster-info-reader"
	cm := &corev1.ConfigMap{
		TypeMeta:   metav1.TypeMeta{APIVersion: "v1", Kind: "ConfigMap"},
		ObjectMeta: metav1.ObjectMeta{Name: bootstrapapi.ConfigMapClusterInfo, Namespace: KubePublic},
		Data:       map[string]string{bootstrapapi.KubeConfigKey: string(kubeconfig)},
	}
	role := &rbacv1.Role{
		TypeMeta:   metav1.TypeMeta{APIVersion: "rbac.authorization.k8s.io/v1", Kind: "Role"},
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: KubePublic},
		Rules: []rbacv1.PolicyRule{{
			APIGroups: []string{""}, Resources: []string{"configmaps"},
			ResourceNames: []string{bootstrapapi.ConfigMapClusterInfo}, Verbs: []string{"get"},
		}},
	}
	binding := &rbacv1.RoleBinding{
		TypeMeta:   metav1.TypeMeta{APIVersion: "rbac.authorization.k8s.io/v1", Kind: "RoleBinding"},
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: KubePublic},
		RoleRef:    rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "Role", Name: name},
		Subjects:   []rbacv1.Subject{{Kind: rbacv1.UserKind, APIGroup: rbacv1.GroupName, Name: "system:anonymous"}},
	}
	return []runtime.Object{cm, role, binding}, nil
}
