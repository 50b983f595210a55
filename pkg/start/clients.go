package start

import (
	"net/http"

	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"

	"github.com/bootstrap-k8s/bootstrap/pkg/kubeprobe"
)

// newUncachedClientset is a clientset on a transport of its own. client-go
// shares one transport (and so its HTTP/2 connection) between the clients of
// equal configs, and the admin kubeconfig's equals the temporary
// apiserver's when both name the same address: after the hand-over that
// connection is the temporary apiserver's, closed in the background, and a
// GET on it fails with a reset that client-go retries only after 1 s (the
// wait phase took 1.02-1.42 s in 6 of the 18 runs of a CI log, 0.04-0.24 s
// in the others).
func newUncachedClientset(cfg *rest.Config) (kubernetes.Interface, error) {
	rt, err := kubeprobe.OwnTransport(cfg, true)
	if err != nil {
		return nil, err
	}
	return kubernetes.NewForConfigAndClient(cfg, &http.Client{Transport: rt})
}
