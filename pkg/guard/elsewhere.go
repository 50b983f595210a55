package guard

import (
	"context"
	"fmt"
	"net"
	"strconv"

	"k8s.io/client-go/tools/clientcmd"

	"github.com/bootstrap-k8s/bootstrap/pkg/apis/bootstrap/v1alpha1"
	"github.com/bootstrap-k8s/bootstrap/pkg/assets"
	"github.com/bootstrap-k8s/bootstrap/pkg/kubeprobe"
	"github.com/bootstrap-k8s/bootstrap/pkg/tempcontrolplane"
)

// servedElsewhere says whether another control-plane node serves the API
// through the control-plane endpoint (kube-apiserver, ready), and how it
// knows. Then this node's kube-apiserver being down needs no recovery: the
// kubelet gets its DaemonSet pod from that API. A recovery would instead
// start a temporary apiserver on this node, writing beside the serving
// ones, which the load balancer would route clients to. Without an
// endpoint (one control-plane node) nothing else can serve.
func servedElsewhere(ctx context.Context, assetDir string, cfg *v1alpha1.BootstrapConfiguration) (string, bool) {
	if cfg.APIServer.ControlPlaneEndpoint == "" {
		return "", false
	}
	host, port, err := v1alpha1.ControlPlaneEndpointHostPort(&cfg.APIServer)
	if err != nil {
		return "", false
	}
	rc, err := clientcmd.BuildConfigFromFlags("", assets.Path(assetDir, assets.AdminKubeconfig))
	if err != nil {
		return "", false
	}
	rc.Host = "https://" + net.JoinHostPort(host, strconv.Itoa(int(port)))
	c, err := kubeprobe.Fresh(rc)
	if err != nil {
		return "", false
	}
	defer c.Close()
	if err := c.Ready(ctx); err != nil {
		return "", false
	}
	v, err := c.Version()
	if err != nil || tempcontrolplane.IsTemporary(v) {
		return "", false
	}
	return fmt.Sprintf("kube-apiserver %s serves the API through the control-plane endpoint %s", v.GitVersion, rc.Host), true
}
