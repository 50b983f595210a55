package certs

import (
	"fmt"
	"sort"
	"strings"

	"github.com/bootstrap-k8s/bootstrap/pkg/apis/bootstrap/v1alpha1"
	"github.com/bootstrap-k8s/bootstrap/pkg/assets"
)

// Workload kinds a renewal rolls.
const (
	daemonSet  = "DaemonSet"
	deployment = "Deployment"
)

// leaf is a certificate renew can re-issue, and where the running cluster
// reads it.
type leaf struct {
	Name string
	// Asset is the asset path render knows it by: tls/<name> (without
	// extension) or a kubeconfig path.
	Asset string
	// CAKey is the asset path of the key that signs it.
	CAKey string
	// Secret and SecretKey: the kube-system Secret (and its key) the
	// component mounts; "" when none.
	Secret, SecretKey string
	// Kind and Workload: what must roll for the component to read it.
	Kind, Workload string
	// NodeFile: the file name in etcd.local.certDir (etcd's certificates).
	NodeFile string
	// Note says who uses it, for the listing.
	Note string
}

func (l leaf) kubeconfig() bool { return strings.HasSuffix(l.Asset, ".kubeconfig") }

// certFile is the asset path of the certificate (kubeconfigs embed theirs).
func (l leaf) certFile() string {
	if l.kubeconfig() {
		return l.Asset
	}
	return l.Asset + ".crt"
}

func (l leaf) etcd() bool { return l.NodeFile != "" }

// leaves lists the renewable certificates of cfg's asset dir.
func leaves(cfg *v1alpha1.BootstrapConfiguration) []leaf {
	out := []leaf{
		{Name: "apiserver", Asset: "tls/apiserver", CAKey: assets.CAKey, Secret: assets.KubeAPIServer, SecretKey: "apiserver.crt",
			Kind: daemonSet, Workload: assets.KubeAPIServer, Note: "kube-apiserver serving"},
		{Name: "apiserver-kubelet-client", Asset: "tls/apiserver-kubelet-client", CAKey: assets.CAKey, Secret: assets.KubeAPIServer,
			SecretKey: "apiserver-kubelet-client.crt", Kind: daemonSet, Workload: assets.KubeAPIServer, Note: "kube-apiserver to kubelets"},
		{Name: "front-proxy-client", Asset: "tls/front-proxy-client", CAKey: assets.FrontProxyCAKey, Secret: assets.KubeAPIServer,
			SecretKey: "front-proxy-client.crt", Kind: daemonSet, Workload: assets.KubeAPIServer, Note: "kube-apiserver to aggregated APIs"},
	}
	if cfg.Etcd.Local != nil {
		out = append(out,
			leaf{Name: "apiserver-etcd-client", Asset: "tls/apiserver-etcd-client", CAKey: assets.EtcdCAKey, Secret: assets.KubeAPIServer,
				SecretKey: "apiserver-etcd-client.crt", Kind: daemonSet, Workload: assets.KubeAPIServer, Note: "kube-apiserver (and bootstrap) to etcd"},
			leaf{Name: "etcd-server", Asset: "tls/etcd/server", CAKey: assets.EtcdCAKey, NodeFile: "server.crt", Note: "etcd serving clients"},
			leaf{Name: "etcd-peer", Asset: "tls/etcd/peer", CAKey: assets.EtcdCAKey, NodeFile: "peer.crt", Note: "etcd serving and dialing peers"},
			leaf{Name: "etcd-healthcheck-client", Asset: "tls/etcd/healthcheck-client", CAKey: assets.EtcdCAKey, NodeFile: "healthcheck-client.crt", Note: "etcd's probes"},
		)
	}
	out = append(out,
		leaf{Name: "admin.kubeconfig", Asset: assets.AdminKubeconfig, CAKey: assets.CAKey, Note: "cluster admins (" + assets.AdminGroup + ")"},
		leaf{Name: "super-admin.kubeconfig", Asset: assets.SuperAdminKubeconfig, CAKey: assets.CAKey, Note: "break-glass (system:masters)"},
		leaf{Name: "controller-manager.kubeconfig", Asset: assets.ControllerManagerKubeconfig, CAKey: assets.CAKey, Secret: assets.KubeControllerManager,
			SecretKey: "kubeconfig", Kind: deployment, Workload: assets.KubeControllerManager, Note: "kube-controller-manager"},
		leaf{Name: "scheduler.kubeconfig", Asset: assets.SchedulerKubeconfig, CAKey: assets.CAKey, Secret: assets.KubeScheduler,
			SecretKey: "kubeconfig", Kind: deployment, Workload: assets.KubeScheduler, Note: "kube-scheduler"},
		leaf{Name: "kube-proxy.kubeconfig", Asset: assets.KubeProxyKubeconfig, CAKey: assets.CAKey, Secret: assets.KubeProxy,
			SecretKey: "kubeconfig", Kind: daemonSet, Workload: assets.KubeProxy, Note: "kube-proxy"},
		leaf{Name: "kubelet.kubeconfig", Asset: assets.KubeletKubeconfig, CAKey: assets.CAKey,
			Note: "the first kubelet's initial credential; with rotateCertificates the kubelet replaces it by itself"},
	)
	return out
}

// cas are the cluster's CAs: listed, never renewed (docs/operations.md has
// the manual rotation).
func cas(cfg *v1alpha1.BootstrapConfiguration) []leaf {
	out := []leaf{{Name: "ca", Asset: "tls/ca", Note: "cluster CA"}, {Name: "front-proxy-ca", Asset: "tls/front-proxy-ca", Note: "front-proxy CA"}}
	if cfg.Etcd.Local != nil {
		out = append(out, leaf{Name: "etcd-ca", Asset: "tls/etcd/ca", Note: "etcd CA"})
	}
	return out
}

// resolve turns renew's arguments into leaves: "all", or names, each
// known; anything else is refused with the list of names.
func resolve(cfg *v1alpha1.BootstrapConfiguration, args []string) ([]leaf, error) {
	all := leaves(cfg)
	byName := map[string]leaf{}
	var names []string
	for _, l := range all {
		byName[l.Name] = l
		names = append(names, l.Name)
	}
	sort.Strings(names)
	if len(args) == 0 {
		return nil, fmt.Errorf("name the certificates to renew: all, or some of %s", strings.Join(names, ", "))
	}
	var out []leaf
	seen := map[string]bool{}
	var unknown []string
	for _, a := range args {
		if a == "all" {
			if len(args) > 1 {
				return nil, fmt.Errorf("give either all or names, not both")
			}
			return all, nil
		}
		l, ok := byName[a]
		if !ok {
			unknown = append(unknown, a)
			continue
		}
		if !seen[a] {
			seen[a] = true
			out = append(out, l)
		}
	}
	if len(unknown) > 0 {
		hint := ""
		for _, c := range cas(cfg) {
			for _, u := range unknown {
				if u == c.Name {
					hint = "; CAs are not renewed by renew: docs/operations.md describes CA rotation"
				}
			}
		}
		return nil, fmt.Errorf("unknown certificate %s: give all, or some of %s%s", strings.Join(quote(unknown), ", "), strings.Join(names, ", "), hint)
	}
	return out, nil
}

func quote(s []string) []string {
	out := make([]string, len(s))
	for i, v := range s {
		out[i] = fmt.Sprintf("%q", v)
	}
	return out
}
