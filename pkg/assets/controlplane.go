package assets

import (
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	policyv1 "k8s.io/api/policy/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/client-go/util/keyutil"
	"k8s.io/utils/ptr"
)

const kubeconfigMountPath = "/etc/kubernetes/kubeconfig"

// controllerManager renders kube-controller-manager's Secret, Deployment and PDB.
func (r *renderer) controllerManager(p *PKI, k *Kubeconfigs) ([]runtime.Object, error) {
	caKey, err := keyutil.MarshalPrivateKeyToPEM(p.CA.Key)
	if err != nil {
		return nil, err
	}
	saKey, err := keyutil.MarshalPrivateKeyToPEM(p.ServiceAccountKey)
	if err != nil {
		return nil, err
	}
	secret := r.secret(KubeControllerManager, KubeControllerManager, map[string][]byte{
		"kubeconfig":          k.ControllerManager,
		"ca.crt":              encodeCert(p.CA.Cert),
		"ca.key":              caKey,
		"front-proxy-ca.crt":  encodeCert(p.FrontProxyCA.Cert),
		"service-account.key": saKey,
	})
	c := r.cfg
	pki := func(f string) string { return pkiMountPath + "/" + f }
	flags := withFlags(map[string]string{
		"allocate-node-cidrs":              "true",
		"authentication-kubeconfig":        pki("kubeconfig"),
		"authorization-kubeconfig":         pki("kubeconfig"),
		"bind-address":                     "127.0.0.1",
		"client-ca-file":                   pki("ca.crt"),
		"cluster-cidr":                     c.Networking.PodCIDR,
		"cluster-name":                     c.ClusterName,
		"cluster-signing-cert-file":        pki("ca.crt"),
		"cluster-signing-key-file":         pki("ca.key"),
		"controllers":                      "*,bootstrapsigner,tokencleaner",
		"kubeconfig":                       pki("kubeconfig"),
		"leader-elect":                     "true",
		"permit-port-sharing":              "true",
		"profiling":                        "false",
		"requestheader-client-ca-file":     pki("front-proxy-ca.crt"),
		"root-ca-file":                     pki("ca.crt"),
		"service-account-private-key-file": pki("service-account.key"),
		"service-cluster-ip-range":         c.Networking.ServiceCIDR,
		"use-service-account-credentials":  "true",
	}, tlsFlags())
	dep := r.controlPlaneDeployment(KubeControllerManager, c.Images.KubeControllerManager,
		args(flags, c.ControllerManager.ExtraArgs), 10257, resources("100m", "128Mi"))
	return []runtime.Object{r.serviceAccount(KubeControllerManager, KubeControllerManager), secret, dep, r.pdb(KubeControllerManager)}, nil
}

// scheduler renders kube-scheduler's Secret, Deployment and PDB.
func (r *renderer) scheduler(k *Kubeconfigs) ([]runtime.Object, error) {
	secret := r.secret(KubeScheduler, KubeScheduler, map[string][]byte{"kubeconfig": k.Scheduler})
	kc := pkiMountPath + "/kubeconfig"
	flags := withFlags(map[string]string{
		"authentication-kubeconfig": kc,
		"authorization-kubeconfig":  kc,
		"bind-address":              "127.0.0.1",
		"kubeconfig":                kc,
		"leader-elect":              "true",
		"permit-port-sharing":       "true",
		"profiling":                 "false",
	}, tlsFlags())
	dep := r.controlPlaneDeployment(KubeScheduler, r.cfg.Images.KubeScheduler,
		args(flags, r.cfg.Scheduler.ExtraArgs), 10259, resources("50m", "64Mi"))
	return []runtime.Object{r.serviceAccount(KubeScheduler, KubeScheduler), secret, dep, r.pdb(KubeScheduler)}, nil
}

// controlPlaneDeployment runs two leader-elected replicas on control-plane
// nodes. Anti-affinity is preferred, not required, so that a single-node
// cluster still runs both: the secure ports are shared (--permit-port-sharing)
// and only the leader acts.
func (r *renderer) controlPlaneDeployment(name, image string, cmdArgs []string, healthPort int32, res corev1.ResourceRequirements) *appsv1.Deployment {
	labels := componentLabels(name)
	spec := corev1.PodSpec{
		HostNetwork:                  true,
		PriorityClassName:            "system-cluster-critical",
		AutomountServiceAccountToken: ptr.To(false),
		ServiceAccountName:           name,
		NodeSelector:                 map[string]string{ControlPlaneNodeLabel: ""},
		Tolerations:                  controlPlaneTolerations(),
		SecurityContext: &corev1.PodSecurityContext{
			RunAsNonRoot:   ptr.To(true),
			RunAsUser:      ptr.To[int64](65532),
			RunAsGroup:     ptr.To[int64](65532),
			SeccompProfile: &corev1.SeccompProfile{Type: corev1.SeccompProfileTypeRuntimeDefault},
		},
		Affinity: preferSpread(labels),
		Containers: []corev1.Container{{
			Name:           name,
			Image:          image,
			Command:        []string{"/usr/local/bin/" + name},
			Args:           cmdArgs,
			Resources:      res,
			StartupProbe:   startupProbe(httpsProbe("127.0.0.1", healthPort, "/healthz", 0, 1)),
			LivenessProbe:  httpsProbe("127.0.0.1", healthPort, "/healthz", 10, 8),
			ReadinessProbe: readinessEvery(2, httpsProbe("127.0.0.1", healthPort, "/healthz", 0, 3)),
			SecurityContext: &corev1.SecurityContext{
				AllowPrivilegeEscalation: ptr.To(false),
				ReadOnlyRootFilesystem:   ptr.To(true),
				Capabilities:             &corev1.Capabilities{Drop: []corev1.Capability{"ALL"}},
			},
			VolumeMounts: []corev1.VolumeMount{
				{Name: "pki", MountPath: pkiMountPath, ReadOnly: true},
				{Name: "ca-certs", MountPath: "/etc/ssl/certs", ReadOnly: true},
			},
		}},
		Volumes: []corev1.Volume{
			secretVolume("pki", name),
			hostPathVolume("ca-certs", "/etc/ssl/certs", corev1.HostPathDirectoryOrCreate),
		},
	}
	// The pod runs as 65532 and reads its Secret: 0440 with the pod's group.
	spec.Volumes[0].Secret.DefaultMode = ptr.To[int32](0o440)
	spec.SecurityContext.FSGroup = ptr.To[int64](65532)
	completePodSpec(&spec)
	return deployment(r.meta(name, name), labels, spec, 2, 1, 0)
}

func (r *renderer) pdb(component string) *policyv1.PodDisruptionBudget {
	return &policyv1.PodDisruptionBudget{
		TypeMeta:   metav1.TypeMeta{APIVersion: "policy/v1", Kind: "PodDisruptionBudget"},
		ObjectMeta: r.meta(component, component),
		Spec: policyv1.PodDisruptionBudgetSpec{
			MinAvailable: ptr.To(intstr.FromInt32(1)),
			Selector:     &metav1.LabelSelector{MatchLabels: componentLabels(component)},
		},
	}
}
