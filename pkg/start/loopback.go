package start

import (
	"context"
	"net"
	"net/url"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/clientcmd"
)

// usesLoopback reports whether the kubeconfig in a component's Secret (key
// "kubeconfig", as render writes it) points at a loopback address, and if
// not, why.
func usesLoopback(ctx context.Context, cs kubernetes.Interface, ns, name string) (bool, string) {
	s, err := cs.CoreV1().Secrets(ns).Get(ctx, name, metav1.GetOptions{})
	if err != nil {
		return false, "reading its kubeconfig Secret: " + err.Error()
	}
	cfg, err := clientcmd.Load(s.Data["kubeconfig"])
	if err != nil {
		return false, "its kubeconfig Secret: " + err.Error()
	}
	ctxt := cfg.Contexts[cfg.CurrentContext]
	if ctxt == nil || cfg.Clusters[ctxt.Cluster] == nil {
		return false, "its kubeconfig has no current cluster"
	}
	server := cfg.Clusters[ctxt.Cluster].Server
	u, err := url.Parse(server)
	if err != nil {
		return false, err.Error()
	}
	if ip := net.ParseIP(u.Hostname()); ip == nil || !ip.IsLoopback() {
		return false, "its kubeconfig points at " + server + ", which the temporary apiserver also serves (re-render to move it to loopback)"
	}
	return true, ""
}
