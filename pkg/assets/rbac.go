package assets

import (
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
)

// BootstrapTokenTTL is how long the rendered node-join token is valid.
const BootstrapTokenTTL = 24 * time.Hour

func (r *renderer) namespaces() ([]runtime.Object, error) {
	var out []runtime.Object
	for _, n := range []string{KubeSystem, "kube-public", "kube-node-lease"} {
		out = append(out, &corev1.Namespace{
			TypeMeta:   metav1.TypeMeta{APIVersion: "v1", Kind: "Namespace"},
			ObjectMeta: metav1.ObjectMeta{Name: n},
		})
	}
	return out, nil
}

// rbac binds the identities render issues to the roles kube-apiserver
// bootstraps. Nothing here binds kubelets or a default service account to
// cluster-admin: kubelets are authorized by the Node authorizer.
func (r *renderer) rbac() ([]runtime.Object, error) {
	crb := func(name, role string, subjects ...rbacv1.Subject) runtime.Object {
		return &rbacv1.ClusterRoleBinding{
			TypeMeta:   metav1.TypeMeta{APIVersion: "rbac.authorization.k8s.io/v1", Kind: "ClusterRoleBinding"},
			ObjectMeta: metav1.ObjectMeta{Name: name},
			RoleRef:    rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "ClusterRole", Name: role},
			Subjects:   subjects,
		}
	}
	group := func(n string) rbacv1.Subject {
		return rbacv1.Subject{Kind: rbacv1.GroupKind, APIGroup: rbacv1.GroupName, Name: n}
	}
	user := func(n string) rbacv1.Subject {
		return rbacv1.Subject{Kind: rbacv1.UserKind, APIGroup: rbacv1.GroupName, Name: n}
	}
	return []runtime.Object{
		// admin.kubeconfig's group: revocable, unlike system:masters.
		crb("bootstrap:cluster-admins", "cluster-admin", group(AdminGroup)),
		// New nodes join with the bootstrap token: they may create a CSR ...
		crb("bootstrap:kubelet-bootstrap", "system:node-bootstrapper", group(BootstrapTokenGroup)),
		// ... which the controller-manager approves for that token's group,
		crb("bootstrap:node-autoapprove-bootstrap", "system:certificates.k8s.io:certificatesigningrequests:nodeclient", group(BootstrapTokenGroup)),
		// and kubelets renew their own client certificates.
		crb("bootstrap:node-autoapprove-certificate-rotation", "system:certificates.k8s.io:certificatesigningrequests:selfnodeclient", group(NodesGroup)),
		// kube-apiserver reaches kubelets for logs, exec and port-forward.
		crb("bootstrap:kube-apiserver-kubelet-client", "system:kubelet-api-admin", user(APIServerKubeletUser)),
	}, nil
}

// bootstrapTokenSecret is the Secret that makes the bootstrap token valid.
func (r *renderer) bootstrapTokenSecret(token string) ([]runtime.Object, error) {
	id, secret, _ := strings.Cut(token, ".")
	return []runtime.Object{&corev1.Secret{
		TypeMeta:   metav1.TypeMeta{APIVersion: "v1", Kind: "Secret"},
		ObjectMeta: metav1.ObjectMeta{Name: "bootstrap-token-" + id, Namespace: KubeSystem},
		Type:       corev1.SecretTypeBootstrapToken,
		// data, not stringData: stringData is write-only, so every later
		// `kubectl apply` would report the Secret as changed.
		Data: toBytes(map[string]string{
			"description":                    "Joins further nodes; rendered by bootstrap render.",
			"token-id":                       id,
			"token-secret":                   secret,
			"expiration":                     r.issuer.now.Add(BootstrapTokenTTL).UTC().Format(time.RFC3339),
			"usage-bootstrap-authentication": "true",
			"usage-bootstrap-signing":        "true",
			"auth-extra-groups":              BootstrapTokenGroup,
		}),
	}}, nil
}

func toBytes(m map[string]string) map[string][]byte {
	out := make(map[string][]byte, len(m))
	for k, v := range m {
		out[k] = []byte(v)
	}
	return out
}
