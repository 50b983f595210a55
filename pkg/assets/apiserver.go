package assets

import (
	"fmt"
	"strings"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	apiserverv1 "k8s.io/apiserver/pkg/apis/apiserver/v1"
	"k8s.io/client-go/util/keyutil"
	"k8s.io/utils/ptr"

	"github.com/bootstrap-k8s/bootstrap/pkg/endpoints"
)

const (
	pkiMountPath    = "/etc/kubernetes/pki"
	configMountPath = "/etc/kubernetes/config"
)

// authenticationConfig lets anonymous requests reach the health endpoints
// (for the kubelet's probes) and the cluster-info ConfigMap (ClusterInfoPath,
// for `bootstrap join`'s discovery; RBAC allows that one object) only; every
// other anonymous request is 401.
func authenticationConfig() *apiserverv1.AuthenticationConfiguration {
	return &apiserverv1.AuthenticationConfiguration{
		TypeMeta: metav1.TypeMeta{APIVersion: apiserverv1.SchemeGroupVersion.String(), Kind: "AuthenticationConfiguration"},
		Anonymous: &apiserverv1.AnonymousAuthConfig{Enabled: true, Conditions: []apiserverv1.AnonymousAuthCondition{
			{Path: "/livez"}, {Path: "/readyz"}, {Path: "/healthz"}, {Path: ClusterInfoPath},
		}},
	}
}

// apiServer renders the kube-apiserver Secret, ConfigMap and DaemonSet.
func (r *renderer) apiServer(p *PKI, encryption []byte) ([]runtime.Object, error) {
	secret, err := r.apiServerSecret(p, encryption)
	if err != nil {
		return nil, err
	}
	policy, err := EncodeYAML(auditPolicy())
	if err != nil {
		return nil, err
	}
	authn, err := EncodeYAML(authenticationConfig())
	if err != nil {
		return nil, err
	}
	cm := &corev1.ConfigMap{
		TypeMeta:   metav1.TypeMeta{APIVersion: "v1", Kind: "ConfigMap"},
		ObjectMeta: r.meta(KubeAPIServer+"-config", KubeAPIServer),
		Data:       map[string]string{"authentication.yaml": string(authn), auditPolicyCM: string(policy)},
	}
	return []runtime.Object{r.serviceAccount(KubeAPIServer, KubeAPIServer), secret, cm, r.apiServerDaemonSet()}, nil
}

func (r *renderer) apiServerSecret(p *PKI, encryption []byte) (*corev1.Secret, error) {
	data := map[string][]byte{
		"encryption-config.yaml":       encryption,
		"ca.crt":                       encodeCert(p.CA.Cert),
		"apiserver.crt":                encodeCert(p.APIServer.Cert),
		"apiserver-kubelet-client.crt": encodeCert(p.APIServerKubeletClient.Cert),
		"apiserver-etcd-client.crt":    encodeCert(p.APIServerEtcdClient.Cert),
		"etcd-ca.crt":                  encodeCert(p.EtcdCA.Cert),
		"front-proxy-ca.crt":           encodeCert(p.FrontProxyCA.Cert),
		"front-proxy-client.crt":       encodeCert(p.FrontProxyClient.Cert),
	}
	keys := map[string]*KeyPair{
		"apiserver.key":                p.APIServer,
		"apiserver-kubelet-client.key": p.APIServerKubeletClient,
		"apiserver-etcd-client.key":    p.APIServerEtcdClient,
		"front-proxy-client.key":       p.FrontProxyClient,
	}
	for name, kp := range keys {
		pem, err := keyutil.MarshalPrivateKeyToPEM(kp.Key)
		if err != nil {
			return nil, err
		}
		data[name] = pem
	}
	saKey, err := keyutil.MarshalPrivateKeyToPEM(p.ServiceAccountKey)
	if err != nil {
		return nil, err
	}
	saPub, err := encodePublicKey(p.ServiceAccountKey.Public())
	if err != nil {
		return nil, err
	}
	data["service-account.key"] = saKey
	data["service-account.pub"] = saPub
	return r.secret(KubeAPIServer, KubeAPIServer, data), nil
}

func (r *renderer) apiServerFlags() map[string]string {
	c := r.cfg
	pki := func(f string) string { return pkiMountPath + "/" + f }
	return withFlags(map[string]string{
		"advertise-address":                  c.APIServer.AdvertiseAddress,
		"allow-privileged":                   "true",
		"authentication-config":              configMountPath + "/authentication.yaml",
		"authorization-mode":                 "Node,RBAC",
		"bind-address":                       wildcardFor(c.APIServer.AdvertiseAddress),
		"client-ca-file":                     pki("ca.crt"),
		"enable-admission-plugins":           "NodeRestriction",
		"enable-bootstrap-token-auth":        "true",
		"encryption-provider-config":         pki("encryption-config.yaml"),
		"etcd-cafile":                        pki("etcd-ca.crt"),
		"etcd-certfile":                      pki("apiserver-etcd-client.crt"),
		"etcd-keyfile":                       pki("apiserver-etcd-client.key"),
		"etcd-servers":                       r.etcdServers(),
		"kubelet-certificate-authority":      pki("ca.crt"), // kubelets serve certificates csr-approver let the CA sign
		"kubelet-client-certificate":         pki("apiserver-kubelet-client.crt"),
		"kubelet-client-key":                 pki("apiserver-kubelet-client.key"),
		"kubelet-preferred-address-types":    "InternalIP,ExternalIP,Hostname",
		"permit-port-sharing":                "true",
		"profiling":                          "false",
		"proxy-client-cert-file":             pki("front-proxy-client.crt"),
		"proxy-client-key-file":              pki("front-proxy-client.key"),
		"requestheader-allowed-names":        FrontProxyClientUser,
		"requestheader-client-ca-file":       pki("front-proxy-ca.crt"),
		"requestheader-extra-headers-prefix": "X-Remote-Extra-",
		"requestheader-group-headers":        "X-Remote-Group",
		"requestheader-username-headers":     "X-Remote-User",
		"secure-port":                        fmt.Sprint(c.APIServer.BindPort),
		"shutdown-delay-duration":            apiServerShutdownDelay.String(),
		"service-account-issuer":             "https://kubernetes.default.svc." + c.Networking.DNSDomain,
		"service-account-key-file":           pki("service-account.pub"),
		"service-account-signing-key-file":   pki("service-account.key"),
		"service-cluster-ip-range":           c.Networking.ServiceCIDR,
		"tls-cert-file":                      pki("apiserver.crt"),
		"tls-private-key-file":               pki("apiserver.key"),
	}, auditFlags(), tlsFlags())
}

// etcdServers is the local persistent member, or the external cluster.
func (r *renderer) etcdServers() string {
	if e := r.cfg.Etcd.External; e != nil {
		return strings.Join(e.Endpoints, ",")
	}
	return endpoints.EtcdLoopbackClient(r.cfg)
}

// apiServerShutdownDelay keeps a replaced kube-apiserver serving, and its
// connections open, for a while after it is told to stop. A new pod's probes
// go to the shared port, where the kernel may hand them to the old
// kube-apiserver, so the new pod can look Ready before it serves; without the
// delay the old one would close its connections at once and clients would
// reconnect to a kube-apiserver whose caches are still cold (403s seen).
const apiServerShutdownDelay = 15 * time.Second

// apiServerDaemonSet runs one kube-apiserver per control-plane node. It
// rolls with maxSurge 1 / maxUnavailable 0: the new pod binds the same port
// beside the old one (SO_REUSEPORT) and the old one goes only when the new one
// is ready, so a single control-plane node upgrades without an outage.
func (r *renderer) apiServerDaemonSet() *appsv1.DaemonSet {
	c := r.cfg
	labels := componentLabels(KubeAPIServer)
	host := loopbackFor(c.APIServer.AdvertiseAddress) // its own listener, never the temporary apiserver
	port := c.APIServer.BindPort
	spec := corev1.PodSpec{
		HostNetwork:                  true,
		PriorityClassName:            "system-node-critical",
		AutomountServiceAccountToken: ptr.To(false),
		ServiceAccountName:           KubeAPIServer,
		NodeSelector:                 map[string]string{ControlPlaneNodeLabel: ""},
		Tolerations:                  controlPlaneTolerations(),
		// Root, like the temporary apiserver that binds the port first: the
		// kernel only lets sockets of the same user share a port.
		SecurityContext: &corev1.PodSecurityContext{RunAsUser: ptr.To[int64](0), SeccompProfile: &corev1.SeccompProfile{Type: corev1.SeccompProfileTypeRuntimeDefault}},
		Containers: []corev1.Container{{
			Name:           KubeAPIServer,
			Image:          c.Images.KubeAPIServer,
			Command:        []string{"/usr/local/bin/kube-apiserver"},
			Args:           args(r.apiServerFlags(), c.APIServer.ExtraArgs),
			Resources:      resources("200m", "256Mi"),
			StartupProbe:   startupProbe(httpsProbe(host, port, "/livez", 0, 1)),
			LivenessProbe:  httpsProbe(host, port, "/livez", 10, 8),
			ReadinessProbe: readinessEvery(2, httpsProbe(host, port, "/readyz", 0, 3)),
			VolumeMounts: []corev1.VolumeMount{
				{Name: "pki", MountPath: pkiMountPath, ReadOnly: true},
				{Name: "config", MountPath: configMountPath, ReadOnly: true},
				{Name: "ca-certs", MountPath: "/etc/ssl/certs", ReadOnly: true},
				{Name: "audit-log", MountPath: auditLogDir},
			},
		}},
		Volumes: []corev1.Volume{
			secretVolume("pki", KubeAPIServer),
			configMapVolume("config", KubeAPIServer+"-config"),
			hostPathVolume("ca-certs", "/etc/ssl/certs", corev1.HostPathDirectoryOrCreate),
			hostPathVolume("audit-log", auditLogDir, corev1.HostPathDirectoryOrCreate),
		},
	}
	if c.APIServer.ControlPlaneEndpoint != "" {
		// Several control-plane nodes: each kube-apiserver advertises its
		// own node's address (the kubernetes Service's endpoints), which
		// the kubelet expands from the pod's status.hostIP.
		spec.Containers[0].Env = []corev1.EnvVar{{Name: "HOST_IP", ValueFrom: &corev1.EnvVarSource{FieldRef: &corev1.ObjectFieldSelector{FieldPath: "status.hostIP"}}}}
		for i, a := range spec.Containers[0].Args {
			if strings.HasPrefix(a, "--advertise-address=") {
				spec.Containers[0].Args[i] = "--advertise-address=$(HOST_IP)"
			}
		}
	}
	completePodSpec(&spec)
	spec.TerminationGracePeriodSeconds = ptr.To(int64(apiServerShutdownDelay.Seconds()) + 30)
	ds := daemonSet(r.meta(KubeAPIServer, KubeAPIServer), labels, spec, 1, 0)
	ds.Spec.MinReadySeconds = apiServerMinReadySeconds
	return ds
}

// apiServerMinReadySeconds is how long a new kube-apiserver pod must stay
// Ready before the DaemonSet counts it available and removes the old one.
// During a surge its probes go to the shared port, and the kernel may hand
// them to the OLD kube-apiserver: a new pod whose process dies at once (a
// bad flag) looks Ready for the second before the kubelet sees it exit.
// Ten seconds of uninterrupted readiness tell it from one that runs; without
// them the DaemonSet removed the old pod beside a crashing new one (a full
// outage, seen in the upgrade e2e). Longer, or a stricter readiness probe,
// made healthy roll-outs stall on this loaded 2-core machine: readiness
// flaps under load and every flap restarts the count. A new kube-apiserver
// that runs but never serves can still pass, as its probes may reach the
// old one; upgrade apply's gate checks /version on the node after the roll.
const apiServerMinReadySeconds = 10

// componentLabels select one control-plane component's pods.
func componentLabels(component string) map[string]string {
	return map[string]string{ComponentLabel: component, TierLabel: ControlPlane}
}

func (r *renderer) meta(name, component string) metav1.ObjectMeta {
	return metav1.ObjectMeta{Name: name, Namespace: KubeSystem, Labels: componentLabels(component)}
}

// serviceAccount gives a control-plane component an identity of its own
// without a token (automountServiceAccountToken is off): kube-apiserver's
// ServiceAccount admission refuses pods whose account does not exist, and
// "default" only appears once a controller-manager runs.
func (r *renderer) serviceAccount(name, component string) *corev1.ServiceAccount {
	return &corev1.ServiceAccount{
		TypeMeta:                     metav1.TypeMeta{APIVersion: "v1", Kind: "ServiceAccount"},
		ObjectMeta:                   r.meta(name, component),
		AutomountServiceAccountToken: ptr.To(false),
	}
}

func (r *renderer) secret(name, component string, data map[string][]byte) *corev1.Secret {
	return &corev1.Secret{
		TypeMeta:   metav1.TypeMeta{APIVersion: "v1", Kind: "Secret"},
		ObjectMeta: r.meta(name, component),
		Type:       corev1.SecretTypeOpaque,
		Data:       data,
	}
}
