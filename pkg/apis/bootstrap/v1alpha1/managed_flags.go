package v1alpha1

// ManagedFlags are the command-line flags render sets itself, per component
// (keyed by the field path of the component's extraArgs parent). An extraArgs
// entry for one of them is rejected: a second value would either be ignored
// or silently win over what the rest of the assets (certificates, Services,
// kubeconfigs) were rendered for. The value says what to change instead.
//
// Extend it whenever render starts managing another flag. Flags whose value
// the user may change within limits are in SecurityFlags; list flags that
// are merged with render's value in MergedListFlags.
var ManagedFlags = map[string]map[string]string{
	"apiServer": {
		"advertise-address":                "set apiServer.advertiseAddress instead",
		"secure-port":                      "set apiServer.bindPort instead",
		"bind-address":                     "it is derived from apiServer.advertiseAddress",
		"service-cluster-ip-range":         "set networking.serviceCIDR instead",
		"etcd-servers":                     "set etcd.local ports or etcd.external.endpoints instead",
		"etcd-cafile":                      "render writes the etcd client certificates; for an external etcd set etcd.external.caFile",
		"etcd-certfile":                    "render writes the etcd client certificates; for an external etcd set etcd.external.certFile",
		"etcd-keyfile":                     "render writes the etcd client certificates; for an external etcd set etcd.external.keyFile",
		"tls-cert-file":                    "render issues the serving certificate; add names with apiServer.extraSANs",
		"tls-private-key-file":             "render issues the serving certificate; add names with apiServer.extraSANs",
		"client-ca-file":                   "render manages the cluster CA",
		"kubelet-client-certificate":       "render issues the apiserver-kubelet-client certificate",
		"kubelet-client-key":               "render issues the apiserver-kubelet-client certificate",
		"requestheader-client-ca-file":     "render manages the front-proxy CA",
		"proxy-client-cert-file":           "render issues the front-proxy-client certificate",
		"proxy-client-key-file":            "render issues the front-proxy-client certificate",
		"service-account-key-file":         "render manages the service-account key pair",
		"service-account-signing-key-file": "render manages the service-account key pair",
		"permit-port-sharing":              "the hand-over from the temporary apiserver depends on it",
	},
	"controllerManager": {
		"kubeconfig":                       "render writes the controller-manager kubeconfig",
		"authentication-kubeconfig":        "render writes the controller-manager kubeconfig",
		"authorization-kubeconfig":         "render writes the controller-manager kubeconfig",
		"cluster-name":                     "set clusterName instead",
		"cluster-cidr":                     "set networking.podCIDR instead",
		"service-cluster-ip-range":         "set networking.serviceCIDR instead",
		"cluster-signing-cert-file":        "render manages the cluster CA",
		"cluster-signing-key-file":         "render manages the cluster CA",
		"root-ca-file":                     "render manages the cluster CA",
		"service-account-private-key-file": "render manages the service-account key pair",
		"leader-elect":                     "two replicas run: leader election is required",
		"permit-port-sharing":              "rolling updates on the host network depend on it",
	},
	"scheduler": {
		"kubeconfig":                "render writes the scheduler kubeconfig",
		"authentication-kubeconfig": "render writes the scheduler kubeconfig",
		"authorization-kubeconfig":  "render writes the scheduler kubeconfig",
		"leader-elect":              "two replicas run: leader election is required",
		"permit-port-sharing":       "rolling updates on the host network depend on it",
	},
	"proxy": {
		"kubeconfig":        "render writes the kube-proxy credentials",
		"cluster-cidr":      "set networking.podCIDR instead",
		"hostname-override": "kube-proxy uses the node name",
	},
	"etcd.local": {
		"name":                        "set node.name instead",
		"data-dir":                    "set etcd.local.dataDir instead",
		"listen-client-urls":          "set etcd.local.clientPort instead",
		"advertise-client-urls":       "set etcd.local.clientPort and apiServer.advertiseAddress instead",
		"listen-peer-urls":            "set etcd.local.peerPort instead",
		"initial-advertise-peer-urls": "set etcd.local.peerPort and apiServer.advertiseAddress instead",
		"initial-cluster":             "render writes the member list",
		"initial-cluster-state":       "render writes the member list",
		"cert-file":                   "render issues the etcd server certificate",
		"key-file":                    "render issues the etcd server certificate",
		"trusted-ca-file":             "render manages the etcd CA",
		"client-cert-auth":            "client certificate authentication is required",
		"peer-cert-file":              "render issues the etcd peer certificate",
		"peer-key-file":               "render issues the etcd peer certificate",
		"peer-trusted-ca-file":        "render manages the etcd CA",
		"peer-client-cert-auth":       "peer certificate authentication is required",
	},
}
