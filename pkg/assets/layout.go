package assets

import "path/filepath"

// Paths inside an asset dir, relative to its root. docs/assets.md describes
// each file; everything that reads an asset dir uses these names.
const (
	TLSDir       = "tls"
	AuthDir      = "auth"
	ManifestsDir = "manifests"
	StaticDir    = "static"
	ConfigFile   = "bootstrap-config.yaml"

	CACert                  = "tls/ca.crt"
	CAKey                   = "tls/ca.key"
	APIServerCert           = "tls/apiserver.crt"
	APIServerKey            = "tls/apiserver.key"
	APIServerKubeletCert    = "tls/apiserver-kubelet-client.crt"
	APIServerKubeletKey     = "tls/apiserver-kubelet-client.key"
	APIServerEtcdClientCert = "tls/apiserver-etcd-client.crt"
	APIServerEtcdClientKey  = "tls/apiserver-etcd-client.key"
	EtcdCACert              = "tls/etcd/ca.crt"
	EtcdCAKey               = "tls/etcd/ca.key"
	EtcdServerCert          = "tls/etcd/server.crt"
	EtcdServerKey           = "tls/etcd/server.key"
	EtcdPeerCert            = "tls/etcd/peer.crt"
	EtcdPeerKey             = "tls/etcd/peer.key"
	EtcdHealthcheckCert     = "tls/etcd/healthcheck-client.crt"
	EtcdHealthcheckKey      = "tls/etcd/healthcheck-client.key"
	FrontProxyCACert        = "tls/front-proxy-ca.crt"
	FrontProxyCAKey         = "tls/front-proxy-ca.key"
	FrontProxyClientCert    = "tls/front-proxy-client.crt"
	FrontProxyClientKey     = "tls/front-proxy-client.key"
	ServiceAccountKey       = "tls/service-account.key"
	ServiceAccountPub       = "tls/service-account.pub"
	// EncryptionConfig is kube-apiserver's EncryptionConfiguration with the
	// key Secrets are encrypted with in etcd (0600; generated once, never
	// regenerated).
	EncryptionConfig = "tls/encryption-config.yaml"

	AdminKubeconfig             = "auth/admin.kubeconfig"
	SuperAdminKubeconfig        = "auth/super-admin.kubeconfig"
	KubeletKubeconfig           = "auth/kubelet.kubeconfig"
	ControllerManagerKubeconfig = "auth/controller-manager.kubeconfig"
	SchedulerKubeconfig         = "auth/scheduler.kubeconfig"
	BootstrapKubeletKubeconfig  = "auth/bootstrap-kubelet.kubeconfig"

	EtcdStaticPod = "static/etcd.yaml"
)

// Identities that render puts into certificates and RBAC.
const (
	// AdminGroup is bound to cluster-admin by a ClusterRoleBinding; admin.kubeconfig
	// carries it instead of system:masters so that access can be revoked.
	AdminGroup = "bootstrap:cluster-admins"
	AdminUser  = "bootstrap:admin"
	// SuperAdminUser is in system:masters: the break-glass identity.
	SuperAdminUser        = "bootstrap:super-admin"
	MastersGroup          = "system:masters"
	NodesGroup            = "system:nodes"
	ControllerManagerUser = "system:kube-controller-manager"
	SchedulerUser         = "system:kube-scheduler"
	KubeProxyUser         = "system:kube-proxy"
	APIServerKubeletUser  = "kube-apiserver-kubelet-client"
	APIServerEtcdUser     = "kube-apiserver-etcd-client"
	FrontProxyClientUser  = "front-proxy-client"
	EtcdHealthcheckUser   = "kube-etcd-healthcheck-client"
	BootstrapTokenGroup   = "system:bootstrappers:bootstrap:default-node-token"
	ControlPlaneNodeLabel = "node-role.kubernetes.io/control-plane"
)

// Path joins an asset dir and a relative asset path.
func Path(assetDir, rel string) string { return filepath.Join(assetDir, filepath.FromSlash(rel)) }
