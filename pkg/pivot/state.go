package pivot

import (
	"context"
	"crypto/x509"
	"fmt"
	"net"
	"net/url"
	"path/filepath"
	"strings"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	certutil "k8s.io/client-go/util/cert"

	"github.com/bootstrap-k8s/bootstrap/pkg/apis/bootstrap/v1alpha1"
	"github.com/bootstrap-k8s/bootstrap/pkg/assets"
	"github.com/bootstrap-k8s/bootstrap/pkg/tlsprobe"
)

// state is what runs now: the workloads in the API, the manifests on disk.
type state struct {
	daemonSet   *appsv1.DaemonSet
	deployments map[string]*appsv1.Deployment
	// manifests: components with a static manifest in staticPodPath.
	manifests              map[string]bool
	guard                  bool
	otherControlPlaneNodes []string
}

var deploymentComponents = []string{assets.KubeControllerManager, assets.KubeScheduler}

var components = []string{assets.KubeAPIServer, assets.KubeControllerManager, assets.KubeScheduler}

func (s *state) workload(c string) bool {
	if c == assets.KubeAPIServer {
		return s.daemonSet != nil
	}
	return s.deployments[c] != nil
}

func (s *state) mode() Mode {
	var workloads, manifests int
	for _, c := range components {
		if s.workload(c) {
			workloads++
		}
		if s.manifests[c] {
			manifests++
		}
	}
	switch {
	case workloads == len(components) && manifests == 0:
		return SelfHosted
	case manifests == len(components) && workloads == 0:
		return StaticPods
	}
	return Mixed
}

func (s *state) String() string {
	var parts []string
	for _, c := range components {
		var has []string
		if s.workload(c) {
			kind := "Deployment"
			if c == assets.KubeAPIServer {
				kind = "DaemonSet"
			}
			has = append(has, kind)
		}
		if s.manifests[c] {
			has = append(has, "static pod")
		}
		if len(has) == 0 {
			has = []string{"missing"}
		}
		parts = append(parts, c+": "+strings.Join(has, " + "))
	}
	return strings.Join(parts, ", ")
}

func (f *flow) manifestPath(component string) string {
	return filepath.Join(f.cfg.Node.StaticPodPath, component+".yaml")
}

func (f *flow) observe(ctx context.Context) (*state, error) {
	st := &state{deployments: map[string]*appsv1.Deployment{}, manifests: map[string]bool{}}
	ds, err := f.cs.AppsV1().DaemonSets(assets.KubeSystem).Get(ctx, assets.KubeAPIServer, metav1.GetOptions{})
	switch {
	case err == nil:
		st.daemonSet = ds
	case !apierrors.IsNotFound(err):
		return nil, fmt.Errorf("reading DaemonSet %s/%s: %w", assets.KubeSystem, assets.KubeAPIServer, err)
	}
	for _, c := range deploymentComponents {
		d, err := f.cs.AppsV1().Deployments(assets.KubeSystem).Get(ctx, c, metav1.GetOptions{})
		switch {
		case err == nil:
			st.deployments[c] = d
		case !apierrors.IsNotFound(err):
			return nil, fmt.Errorf("reading Deployment %s/%s: %w", assets.KubeSystem, c, err)
		}
	}
	for _, c := range components {
		st.manifests[c] = fileExists(f.manifestPath(c))
	}
	st.guard = fileExists(filepath.Join(f.cfg.Node.StaticPodPath, assets.GuardStaticPodFile))
	nodes, err := f.cs.CoreV1().Nodes().List(ctx, metav1.ListOptions{LabelSelector: assets.ControlPlaneNodeLabel})
	if err != nil {
		return nil, fmt.Errorf("listing the control-plane nodes: %w", err)
	}
	for _, n := range nodes.Items {
		if n.Name != f.cfg.Node.Name {
			st.otherControlPlaneNodes = append(st.otherControlPlaneNodes, n.Name)
		}
	}
	return st, nil
}

// sameCluster refuses an asset dir whose CA did not sign what the
// apiserver of its configuration serves (another cluster's asset dir, or
// a configuration pointing at another cluster), and an API that does not
// answer: pivot reads the live workloads and their Secrets from it.
func sameCluster(ctx context.Context, cs kubernetes.Interface, cfg *v1alpha1.BootstrapConfiguration, assetDir string) error {
	cas, err := certutil.CertsFromFile(assets.Path(assetDir, assets.CACert))
	if err != nil {
		return fmt.Errorf("reading %s: %w", assets.CACert, err)
	}
	pool := x509.NewCertPool()
	for _, c := range cas {
		pool.AddCert(c)
	}
	addr := cfg.APIServer.ExternalURL
	if u, err := url.Parse(addr); err == nil && u.Host != "" {
		addr = u.Host
	}
	if _, _, err := net.SplitHostPort(addr); err != nil {
		addr = net.JoinHostPort(addr, "443")
	}
	crt, err := tlsprobe.Served(ctx, addr, nil, 5*time.Second)
	if err != nil {
		return fmt.Errorf("the Kubernetes API of this asset dir (%s) does not answer (%v): pivot reads the running control plane from it; check `bootstrap status --asset-dir %s`; nothing was changed", cfg.APIServer.ExternalURL, err, assetDir)
	}
	if _, verr := crt.Verify(x509.VerifyOptions{Roots: pool, CurrentTime: crt.NotBefore.Add(time.Second)}); verr != nil {
		return fmt.Errorf("the apiserver at %s presents a certificate issued by %q, not by this asset dir's CA %s (%q): the asset dir belongs to another cluster; nothing was changed", cfg.APIServer.ExternalURL, crt.Issuer, assets.CACert, cas[0].Subject)
	}
	lctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	if _, err := cs.CoreV1().Namespaces().Get(lctx, assets.KubeSystem, metav1.GetOptions{}); err != nil {
		return fmt.Errorf("the Kubernetes API at %s does not answer the asset dir's admin (%v): check `bootstrap status --asset-dir %s`; nothing was changed", cfg.APIServer.ExternalURL, err, assetDir)
	}
	return nil
}

// apiObjects reads Secrets and ConfigMaps of kube-system.
type apiObjects struct {
	ctx context.Context
	cs  kubernetes.Interface
}

func (a apiObjects) secret(name string) (map[string][]byte, error) {
	s, err := a.cs.CoreV1().Secrets(assets.KubeSystem).Get(a.ctx, name, metav1.GetOptions{})
	if err != nil {
		return nil, err
	}
	return s.Data, nil
}

func (a apiObjects) configMap(name string) (map[string][]byte, error) {
	c, err := a.cs.CoreV1().ConfigMaps(assets.KubeSystem).Get(a.ctx, name, metav1.GetOptions{})
	if err != nil {
		return nil, err
	}
	out := map[string][]byte{}
	for k, v := range c.Data {
		out[k] = []byte(v)
	}
	for k, v := range c.BinaryData {
		out[k] = v
	}
	return out, nil
}
