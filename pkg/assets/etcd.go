package assets

import (
	"fmt"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/utils/ptr"

	"github.com/bootstrap-k8s/bootstrap/pkg/endpoints"
)

// BootEtcdMemberName is the name of the embedded boot member that
// `bootstrap start` runs; the persistent member joins it, then replaces it.
const BootEtcdMemberName = "bootstrap-boot"

// EtcdElectionTimeoutMs is the persistent members' --election-timeout.
const EtcdElectionTimeoutMs = "500"

// etcdStaticPod renders the persistent etcd member as a static pod. It is
// not self-hosted on purpose: a static pod survives reboots and restores
// without any apiserver. Its initial-cluster names the boot member because
// it first joins that member; after the first start etcd ignores the
// initial-* flags, so the manifest stays valid once the boot member is gone.
func (r *renderer) etcdStaticPod() ([]runtime.Object, error) {
	if r.cfg.Etcd.Local == nil {
		return nil, nil
	}
	name := r.cfg.Node.Name
	return []runtime.Object{r.etcdMemberPod(fmt.Sprintf("%s=%s,%s=%s", BootEtcdMemberName, endpoints.BootEtcdPeer(r.cfg), name, endpoints.EtcdPeer(r.cfg)))}, nil
}

// etcdMemberPod is the member of r.cfg's node (node.name, advertise
// address) joining the members of initialCluster (name=peerURL,...).
func (r *renderer) etcdMemberPod(initialCluster string) *corev1.Pod {
	l := r.cfg.Etcd.Local
	cert := func(f string) string { return "/etc/kubernetes/pki/etcd/" + f }
	name := r.cfg.Node.Name
	flags := map[string]string{
		"name":                        name,
		"data-dir":                    "/var/lib/etcd",
		"advertise-client-urls":       endpoints.EtcdClient(r.cfg),
		"listen-client-urls":          endpoints.EtcdLoopbackClient(r.cfg) + "," + endpoints.EtcdClient(r.cfg),
		"listen-peer-urls":            endpoints.EtcdPeer(r.cfg),
		"initial-advertise-peer-urls": endpoints.EtcdPeer(r.cfg),
		"initial-cluster":             initialCluster,
		"initial-cluster-state":       "existing",
		"listen-metrics-urls":         "http://127.0.0.1:2381",
		"cert-file":                   cert("server.crt"),
		"key-file":                    cert("server.key"),
		"trusted-ca-file":             cert("ca.crt"),
		"client-cert-auth":            "true",
		"peer-cert-file":              cert("peer.crt"),
		"peer-key-file":               cert("peer.key"),
		"peer-trusted-ca-file":        cert("ca.crt"),
		"peer-client-cert-auth":       "true",
		"snapshot-count":              "10000",
	}
	// Half of etcd's default election timeout (1000 ms), with its default
	// heartbeat: a lone member (one control-plane node) elects itself after
	// every start of its container in a random 0.1-0.6 s instead of
	// 0.1-1.0 s, and recoveries and power cycles wait for that
	// (docs/design.md, "A lone member elects itself sooner"). A user's
	// extraArgs that tune either value win, and nothing is added then, so
	// that the pair always stays valid (etcd wants the election timeout at
	// least 5 heartbeats).
	if _, own := l.ExtraArgs["election-timeout"]; !own {
		if _, hb := l.ExtraArgs["heartbeat-interval"]; !hb {
			flags["election-timeout"] = EtcdElectionTimeoutMs
		}
	}
	spec := corev1.PodSpec{
		HostNetwork:       true,
		PriorityClassName: "system-node-critical",
		SecurityContext:   &corev1.PodSecurityContext{SeccompProfile: &corev1.SeccompProfile{Type: corev1.SeccompProfileTypeRuntimeDefault}},
		Containers: []corev1.Container{{
			Name:           "etcd",
			Image:          r.cfg.Images.Etcd,
			Command:        []string{"/usr/local/bin/etcd"},
			Args:           args(flags, l.ExtraArgs),
			Resources:      resources("100m", "100Mi"),
			StartupProbe:   startupProbe(httpProbe("127.0.0.1", 2381, "/readyz", corev1.URISchemeHTTP, 0, 1)),
			LivenessProbe:  httpProbe("127.0.0.1", 2381, "/livez", corev1.URISchemeHTTP, 10, 8),
			ReadinessProbe: readinessEvery(2, httpProbe("127.0.0.1", 2381, "/readyz", corev1.URISchemeHTTP, 0, 3)),
			VolumeMounts: []corev1.VolumeMount{
				{Name: "etcd-data", MountPath: "/var/lib/etcd"},
				{Name: "etcd-certs", MountPath: "/etc/kubernetes/pki/etcd", ReadOnly: true},
			},
		}},
		Volumes: []corev1.Volume{
			hostPathVolume("etcd-data", l.DataDir, corev1.HostPathDirectoryOrCreate),
			hostPathVolume("etcd-certs", l.CertDir, corev1.HostPathDirectory),
		},
	}
	completePodSpec(&spec)
	spec.TerminationGracePeriodSeconds = ptr.To[int64](30)
	return staticPod("etcd", componentLabels("etcd"), spec)
}
