package assets

import (
	corev1 "k8s.io/api/core/v1"
	"k8s.io/utils/ptr"

	"github.com/bootstrap-k8s/bootstrap/pkg/apis/bootstrap/v1alpha1"
)

// GuardPodName is the static pod of `bootstrap guard`; the kubelet runs it
// from GuardStaticPodFile in node.staticPodPath.
const (
	GuardPodName       = "bootstrap-guard"
	GuardStaticPodFile = "bootstrap-guard.yaml"
)

// GuardStaticPod is the static pod that keeps this node's self-hosted
// control plane running when no apiserver can tell the kubelet to (after a
// power cut, or once every kube-apiserver pod is gone): `bootstrap guard`
// on the asset dir, from bootstrap's own image. A static pod, because it
// must run before any apiserver does; start installs it with the asset
// dir's absolute path, which render does not know (the dir is shipped).
//
// It mounts the asset dir and the static pod dir read-only at the same
// paths (the recover flow it runs reads them by the paths in the
// configuration) and runs as root on the host network: the temporary
// apiserver it starts shares the apiserver port with kube-apiserver, and
// the kernel only lets sockets of one user share a port.
func GuardStaticPod(cfg *v1alpha1.BootstrapConfiguration, assetDir string) *corev1.Pod {
	spec := corev1.PodSpec{
		HostNetwork:       true,
		PriorityClassName: "system-node-critical",
		SecurityContext:   &corev1.PodSecurityContext{SeccompProfile: &corev1.SeccompProfile{Type: corev1.SeccompProfileTypeRuntimeDefault}},
		Containers: []corev1.Container{{
			Name:      "guard",
			Image:     cfg.Images.Bootstrap,
			Command:   []string{"/usr/local/bin/bootstrap", "guard", "--asset-dir", assetDir},
			Resources: resources("10m", "32Mi"),
			VolumeMounts: []corev1.VolumeMount{
				{Name: "assets", MountPath: assetDir, ReadOnly: true},
				{Name: "static-pods", MountPath: cfg.Node.StaticPodPath, ReadOnly: true},
			},
		}},
		Volumes: []corev1.Volume{
			hostPathVolume("assets", assetDir, corev1.HostPathDirectory),
			hostPathVolume("static-pods", cfg.Node.StaticPodPath, corev1.HostPathDirectory),
		},
	}
	completePodSpec(&spec)
	// A guard in the middle of a recovery hands over before it exits.
	spec.TerminationGracePeriodSeconds = ptr.To[int64](30)
	return staticPod(GuardPodName, componentLabels(GuardPodName), spec)
}
