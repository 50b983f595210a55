package v1alpha1

import (
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// GroupName is the API group of the bootstrap configuration file.
const GroupName = "config.bootstrap.dev"

// Version is the only version of the configuration API so far.
const Version = "v1alpha1"

// Kind is the kind of the one object a configuration file holds.
const Kind = "BootstrapConfiguration"

// BootstrapConfiguration describes the cluster that `bootstrap render` writes
// assets for. Every field is optional: SetDefaults fills what is left out, and
// the effective result is written to the asset dir as bootstrap-config.yaml.
type BootstrapConfiguration struct {
	metav1.TypeMeta `json:",inline"`

	// ClusterName names the cluster in kubeconfigs and certificates.
	ClusterName string `json:"clusterName,omitempty"`
	// KubernetesVersion is the version of the self-hosted components, e.g. v1.37.2.
	KubernetesVersion string `json:"kubernetesVersion,omitempty"`
	// ImageRepository is where the Kubernetes images come from (default registry.k8s.io).
	ImageRepository string `json:"imageRepository,omitempty"`
	// Images overrides the full image reference of single components.
	Images ImageOverrides `json:"images,omitempty"`

	APIServer  APIServer  `json:"apiServer,omitempty"`
	Node       Node       `json:"node,omitempty"`
	Networking Networking `json:"networking,omitempty"`
	Etcd       Etcd       `json:"etcd,omitempty"`
	// Certificates controls key algorithm and validity of everything render issues.
	Certificates Certificates `json:"certificates,omitempty"`

	// ControllerManager and Scheduler carry per-component settings.
	ControllerManager Component `json:"controllerManager,omitempty"`
	Scheduler         Component `json:"scheduler,omitempty"`
	Proxy             Component `json:"proxy,omitempty"`
}

// ImageOverrides replaces the image of one component; empty means derived from
// ImageRepository and the component's version.
type ImageOverrides struct {
	KubeAPIServer         string `json:"kubeAPIServer,omitempty"`
	KubeControllerManager string `json:"kubeControllerManager,omitempty"`
	KubeScheduler         string `json:"kubeScheduler,omitempty"`
	KubeProxy             string `json:"kubeProxy,omitempty"`
	Etcd                  string `json:"etcd,omitempty"`
	CoreDNS               string `json:"coreDNS,omitempty"`
	Pause                 string `json:"pause,omitempty"`
	Flannel               string `json:"flannel,omitempty"`
	// Bootstrap is the image of bootstrap itself, which runs the node agents
	// (the control-plane guard static pod). It must carry the same bootstrap
	// version as the binary that renders.
	Bootstrap string `json:"bootstrap,omitempty"`
}

// APIServer configures the self-hosted kube-apiserver (and the temporary one,
// which serves on the same address and port until the hand-over).
type APIServer struct {
	// AdvertiseAddress is the node IP the apiserver binds to and advertises. Required.
	AdvertiseAddress string `json:"advertiseAddress,omitempty"`
	// BindPort is the secure port (default 6443).
	BindPort int32 `json:"bindPort,omitempty"`
	// ControlPlaneEndpoint is the address every node and client reaches the
	// control plane on when it has more than one node: a load balancer or a
	// DNS name, host or host:port (port default bindPort), e.g.
	// k8s.example.com:6443. Its host goes into the serving certificate's
	// SANs, and it sets the default of externalURL; kube-apiserver then
	// advertises each node's own address (status.hostIP). Set it before
	// `bootstrap start` when the cluster is to grow control-plane nodes: a
	// node's kubeconfig, cluster-info and the certificate all carry it.
	ControlPlaneEndpoint string `json:"controlPlaneEndpoint,omitempty"`
	// ExternalURL is what kubeconfigs point at, e.g. https://k8s.example.com:6443;
	// default https://<controlPlaneEndpoint>, else https://<advertiseAddress>:<bindPort>.
	ExternalURL string `json:"externalURL,omitempty"`
	// ExtraSANs are added to the serving certificate (DNS names or IPs).
	ExtraSANs []string `json:"extraSANs,omitempty"`
	// ExtraArgs are appended to kube-apiserver's command line (name without "--").
	ExtraArgs map[string]string `json:"extraArgs,omitempty"`
}

// Node describes the first node, where `bootstrap start` runs.
type Node struct {
	// Name is the Node object's name (default: the host name, lower-cased).
	Name string `json:"name,omitempty"`
	// StaticPodPath is the kubelet's staticPodPath (default /etc/kubernetes/manifests).
	StaticPodPath string `json:"staticPodPath,omitempty"`
}

// Networking describes cluster networking.
type Networking struct {
	// PodCIDR is the cluster pod network (default 10.244.0.0/16).
	PodCIDR string `json:"podCIDR,omitempty"`
	// ServiceCIDR is the service network (default 10.96.0.0/12).
	ServiceCIDR string `json:"serviceCIDR,omitempty"`
	// DNSDomain is the cluster DNS domain (default cluster.local).
	DNSDomain string `json:"dnsDomain,omitempty"`
	// CNI picks the pod network: "bridge" (single node, default), "flannel" or "none".
	CNI string `json:"cni,omitempty"`
}

// CNI plugins render understands.
const (
	CNIBridge  = "bridge"
	CNIFlannel = "flannel"
	CNINone    = "none"
)

// Etcd selects a local etcd member (the default) or an external cluster.
type Etcd struct {
	Local    *LocalEtcd    `json:"local,omitempty"`
	External *ExternalEtcd `json:"external,omitempty"`
}

// LocalEtcd is the persistent etcd member run as a static pod on the first node,
// and the ports of the temporary boot member `bootstrap start` embeds.
type LocalEtcd struct {
	// DataDir of the persistent member (default /var/lib/etcd).
	DataDir string `json:"dataDir,omitempty"`
	// ClientPort and PeerPort of the persistent member (default 2379, 2380).
	ClientPort int32 `json:"clientPort,omitempty"`
	PeerPort   int32 `json:"peerPort,omitempty"`
	// BootClientPort and BootPeerPort of the embedded boot member (default 12379, 12380).
	BootClientPort int32 `json:"bootClientPort,omitempty"`
	BootPeerPort   int32 `json:"bootPeerPort,omitempty"`
	// BootDataDir is the boot member's data dir (default /var/lib/bootstrap/etcd).
	BootDataDir string `json:"bootDataDir,omitempty"`
	// CertDir is where `bootstrap start` installs the member's certificates on
	// the node for the static pod to mount (default /etc/kubernetes/pki/etcd).
	CertDir string `json:"certDir,omitempty"`
	// ExtraArgs are appended to etcd's command line.
	ExtraArgs map[string]string `json:"extraArgs,omitempty"`
}

// ExternalEtcd points at an etcd cluster that bootstrap does not manage.
type ExternalEtcd struct {
	Endpoints []string `json:"endpoints"`
	// CAFile, CertFile and KeyFile are copied into the asset dir by render.
	CAFile   string `json:"caFile"`
	CertFile string `json:"certFile"`
	KeyFile  string `json:"keyFile"`
}

// Certificates controls what render issues.
type Certificates struct {
	// KeyAlgorithm is ECDSA-P256 (default), RSA-2048, RSA-3072 or RSA-4096.
	KeyAlgorithm string `json:"keyAlgorithm,omitempty"`
	// CAValidity and Validity are the lifetimes of CAs (default 87600h) and leaves (default 8760h).
	CAValidity *metav1.Duration `json:"caValidity,omitempty"`
	Validity   *metav1.Duration `json:"validity,omitempty"`
}

// Key algorithms.
const (
	KeyAlgorithmECDSAP256 = "ECDSA-P256"
	KeyAlgorithmRSA2048   = "RSA-2048"
	KeyAlgorithmRSA3072   = "RSA-3072"
	KeyAlgorithmRSA4096   = "RSA-4096"
)

// Component carries per-component settings of the self-hosted workloads.
type Component struct {
	// ExtraArgs are appended to the component's command line (name without "--").
	ExtraArgs map[string]string `json:"extraArgs,omitempty"`
}
