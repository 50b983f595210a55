package assets

import (
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/utils/ptr"
)

// Every pod template render writes is fully specified: until the self-hosted
// kube-apiserver takes over, the kubelet reads pods from the temporary
// apiserver, which does not default the way kube-apiserver does. A nil
// enableServiceLinks or a zero probe period breaks the kubelet, so these
// helpers set every field it relies on. TestPodTemplatesFullySpecified
// enforces it.

// completePodSpec fills the pod-level fields the kubelet relies on.
func completePodSpec(s *corev1.PodSpec) {
	s.RestartPolicy = corev1.RestartPolicyAlways
	if s.DNSPolicy == "" {
		s.DNSPolicy = corev1.DNSClusterFirst
	}
	s.EnableServiceLinks = ptr.To(false)
	if s.SchedulerName == "" {
		s.SchedulerName = corev1.DefaultSchedulerName
	}
	if s.TerminationGracePeriodSeconds == nil {
		s.TerminationGracePeriodSeconds = ptr.To[int64](30)
	}
	if s.SecurityContext == nil {
		s.SecurityContext = &corev1.PodSecurityContext{}
	}
	for i := range s.Containers {
		completeContainer(&s.Containers[i])
	}
	for i := range s.InitContainers {
		completeContainer(&s.InitContainers[i])
	}
}

func completeContainer(c *corev1.Container) {
	c.ImagePullPolicy = corev1.PullIfNotPresent
	c.TerminationMessagePath = corev1.TerminationMessagePathDefault
	c.TerminationMessagePolicy = corev1.TerminationMessageFallbackToLogsOnError
	for i := range c.Ports {
		if c.Ports[i].Protocol == "" {
			c.Ports[i].Protocol = corev1.ProtocolTCP
		}
	}
}

// httpsProbe probes an HTTPS endpoint; the components allow anonymous access
// to their health paths only.
func httpsProbe(host string, port int32, path string, initialDelay, failures int32) *corev1.Probe {
	return httpProbe(host, port, path, corev1.URISchemeHTTPS, initialDelay, failures)
}

// startupProbe checks every second for up to five minutes: the hand-over and
// every rolling update wait for the new pod, so readiness should not lag its
// start by a probe period. Liveness probes only begin once it passed.
func startupProbe(p *corev1.Probe) *corev1.Probe {
	p.InitialDelaySeconds, p.PeriodSeconds, p.TimeoutSeconds, p.FailureThreshold = 0, 1, 5, 300
	return p
}

// readinessEvery sets a readiness probe's period. Readiness gates roll-outs
// and the end of `bootstrap start`; the default 10 s period made start wait
// up to a period after every component was in fact ready. A local HTTP GET
// every 2 s costs nothing.
func readinessEvery(seconds int32, p *corev1.Probe) *corev1.Probe {
	p.PeriodSeconds = seconds
	return p
}

func httpProbe(host string, port int32, path string, scheme corev1.URIScheme, initialDelay, failures int32) *corev1.Probe {
	return &corev1.Probe{
		ProbeHandler: corev1.ProbeHandler{HTTPGet: &corev1.HTTPGetAction{
			Host: host, Port: intstr.FromInt32(port), Path: path, Scheme: scheme,
		}},
		InitialDelaySeconds: initialDelay,
		PeriodSeconds:       10,
		TimeoutSeconds:      15,
		SuccessThreshold:    1,
		FailureThreshold:    failures,
	}
}

// controlPlaneTolerations tolerate every taint (docs/design.md, "Taints"):
// kube-apiserver, controller-manager and scheduler are what would remove a
// taint, so a taint that evicted them could never be removed. A NoExecute
// taint on the only node (one `kubectl taint`) took the cluster down for good
// before; kubeadm's static pods are immune in the same way. The nodeSelector,
// not a taint, keeps them on control-plane nodes.
func controlPlaneTolerations() []corev1.Toleration {
	return []corev1.Toleration{{Operator: corev1.TolerationOpExists}}
}

func hostPathVolume(name, path string, typ corev1.HostPathType) corev1.Volume {
	return corev1.Volume{Name: name, VolumeSource: corev1.VolumeSource{
		HostPath: &corev1.HostPathVolumeSource{Path: path, Type: ptr.To(typ)},
	}}
}

func secretVolume(name, secret string) corev1.Volume {
	return corev1.Volume{Name: name, VolumeSource: corev1.VolumeSource{
		Secret: &corev1.SecretVolumeSource{SecretName: secret, DefaultMode: ptr.To[int32](0o400)},
	}}
}

func configMapVolume(name, cm string) corev1.Volume {
	return corev1.Volume{Name: name, VolumeSource: corev1.VolumeSource{
		ConfigMap: &corev1.ConfigMapVolumeSource{LocalObjectReference: corev1.LocalObjectReference{Name: cm}, DefaultMode: ptr.To[int32](0o444)},
	}}
}

func resources(cpu, memory string) corev1.ResourceRequirements {
	return corev1.ResourceRequirements{Requests: corev1.ResourceList{
		corev1.ResourceCPU:    resource.MustParse(cpu),
		corev1.ResourceMemory: resource.MustParse(memory),
	}}
}
