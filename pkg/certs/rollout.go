package certs

import (
	"context"
	"crypto/tls"
	"encoding/json"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	appsv1ac "k8s.io/client-go/applyconfigurations/apps/v1"
	corev1ac "k8s.io/client-go/applyconfigurations/core/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"sigs.k8s.io/yaml"

	"github.com/bootstrap-k8s/bootstrap/pkg/apis/bootstrap/v1alpha1"
	"github.com/bootstrap-k8s/bootstrap/pkg/assets"
	"github.com/bootstrap-k8s/bootstrap/pkg/endpoints"
	"github.com/bootstrap-k8s/bootstrap/pkg/etcdutil"
	"github.com/bootstrap-k8s/bootstrap/pkg/kubeapply"
	"github.com/bootstrap-k8s/bootstrap/pkg/tlsprobe"
	"github.com/bootstrap-k8s/bootstrap/pkg/ui"
	"github.com/bootstrap-k8s/bootstrap/pkg/waitfor"
)

// renewFieldManager owns the roll annotation, apart from "bootstrap": a
// later apply of the asset dir's manifests leaves it alone.
const renewFieldManager = "bootstrap-certs"

// rollOrder: kube-apiserver first (every other component talks to it),
// then the controllers, then kube-proxy.
var rollOrder = []string{assets.KubeAPIServer, assets.KubeControllerManager, assets.KubeScheduler, assets.KubeProxy}

// rollOut applies the Secrets that hold renewed certificates and rolls
// their workloads one after the other, each with its own strategy: the
// kube-apiserver DaemonSet surges a new pod beside the old one (which keeps
// serving through its shutdown delay), the Deployments keep a replica.
func rollOut(ctx context.Context, o RenewOptions, cfg *v1alpha1.BootstrapConfiguration, rc *rest.Config, cs kubernetes.Interface, todo []leaf, res *RenewResult, p *ui.Printer) error {
	secrets, kinds := map[string]bool{}, map[string]string{}
	for _, l := range todo {
		if l.Secret != "" {
			secrets[l.Secret] = true
			kinds[l.Workload] = l.Kind
		}
	}
	if len(secrets) == 0 {
		return nil
	}
	objs, err := kubeapply.ReadManifests(assets.Path(o.AssetDir, assets.ManifestsDir))
	if err != nil {
		return err
	}
	applier, err := kubeapply.NewApplier(rc, func(string, ...any) {})
	if err != nil {
		return err
	}
	for _, obj := range objs {
		if obj.GetKind() == "Secret" && obj.GetNamespace() == assets.KubeSystem && secrets[obj.GetName()] {
			if err := applier.Apply(ctx, obj); err != nil {
				return fmt.Errorf("updating Secret %s/%s: %w", assets.KubeSystem, obj.GetName(), err)
			}
			p.Infof("certs", "Updated Secret %s/%s", assets.KubeSystem, obj.GetName())
		}
	}
	stamp := o.Now().UTC().Format(time.RFC3339)
	report := func(msg string) { p.Infof("rollout", "%s", msg) }
	for _, name := range rollOrder {
		kind, ok := kinds[name]
		if !ok {
			continue
		}
		var gerr error
		if kind == daemonSet {
			_, gerr = cs.AppsV1().DaemonSets(assets.KubeSystem).Get(ctx, name, metav1.GetOptions{})
		} else {
			_, gerr = cs.AppsV1().Deployments(assets.KubeSystem).Get(ctx, name, metav1.GetOptions{})
		}
		if apierrors.IsNotFound(gerr) {
			res.Notes = append(res.Notes, fmt.Sprintf("%s %s/%s does not exist: nothing to roll (bootstrap start re-creates it with the renewed Secret)", kind, assets.KubeSystem, name))
			continue
		} else if gerr != nil {
			return gerr
		}
		done := p.Start("rollout", fmt.Sprintf("Rolling %s %s/%s", kind, assets.KubeSystem, name))
		tmpl := corev1ac.PodTemplateSpec().WithAnnotations(map[string]string{RenewedAtAnnotation: stamp})
		apply := metav1.ApplyOptions{FieldManager: renewFieldManager, Force: true}
		if kind == daemonSet {
			_, err = cs.AppsV1().DaemonSets(assets.KubeSystem).Apply(ctx, appsv1ac.DaemonSet(name, assets.KubeSystem).WithSpec(appsv1ac.DaemonSetSpec().WithTemplate(tmpl)), apply)
			if err == nil {
				err = waitRolledOut(ctx, cs, kind, name, o.RolloutTimeout, report)
			}
		} else {
			_, err = cs.AppsV1().Deployments(assets.KubeSystem).Apply(ctx, appsv1ac.Deployment(name, assets.KubeSystem).WithSpec(appsv1ac.DeploymentSpec().WithTemplate(tmpl)), apply)
			if err == nil {
				err = waitRolledOut(ctx, cs, kind, name, o.RolloutTimeout, report)
			}
		}
		if err != nil {
			return fmt.Errorf("rolling %s %s: %w", kind, name, err)
		}
		done()
		res.Rolled = append(res.Rolled, kind+" "+assets.KubeSystem+"/"+name)
		if name == assets.KubeAPIServer {
			if err := verifyAPIServers(ctx, o, cfg, cs, todo, res, p); err != nil {
				return err
			}
		}
	}
	return nil
}

// verifyAPIServers: every control-plane node's kube-apiserver presents the
// new serving certificate.
func verifyAPIServers(ctx context.Context, o RenewOptions, cfg *v1alpha1.BootstrapConfiguration, cs kubernetes.Interface, todo []leaf, res *RenewResult, p *ui.Printer) error {
	want := renewedSerial(res, "apiserver")
	if want == "" {
		return nil
	}
	nodes, err := cs.CoreV1().Nodes().List(ctx, metav1.ListOptions{LabelSelector: assets.ControlPlaneNodeLabel})
	if err != nil {
		return err
	}
	for i := range nodes.Items {
		if addr := nodeIP(&nodes.Items[i]); addr != "" {
			if err := waitServed(ctx, o, net.JoinHostPort(addr, strconv.Itoa(int(cfg.APIServer.BindPort))), nil, want, res, p); err != nil {
				return err
			}
		}
	}
	return nil
}

// waitServed waits until five fresh TLS handshakes in a row see serial:
// during a surge both the old and the new kube-apiserver share the port.
func waitServed(ctx context.Context, o RenewOptions, hostport string, tlsBase *tls.Config, serial string, res *RenewResult, p *ui.Printer) error {
	inARow := 0
	_, err := waitfor.Until(ctx, waitfor.Options{What: hostport + " to serve certificate " + serial, Timeout: 2 * time.Minute, Interval: 200 * time.Millisecond},
		func(ctx context.Context) (bool, string, error) {
			crt, err := tlsprobe.Served(ctx, hostport, tlsBase, o.Timeout)
			if err != nil {
				inARow = 0
				return false, "", err
			}
			if got := crt.SerialNumber.Text(16); got != serial {
				inARow = 0
				return false, "serves serial " + got, nil
			}
			inARow++
			return inARow >= 5, fmt.Sprintf("%d handshakes in a row see the new certificate", inARow), nil
		})
	if err != nil {
		return err
	}
	res.Verified = append(res.Verified, hostport+" "+serial)
	p.Infof("certs", "%s serves the new certificate (serial %s)", hostport, serial)
	return nil
}

func renewedSerial(res *RenewResult, name string) string {
	for _, r := range res.Renewed {
		if r.Name == name {
			return r.NewSerial
		}
	}
	return ""
}

// renewEtcd installs the member's renewed certificates in etcd.local.certDir
// (only when etcd is healthy) and checks that etcd serves them: etcd reads
// its certificate files on every TLS handshake, so no restart is needed;
// if it still serves the old one, the static pod is restarted, last, and
// awaited.
func renewEtcd(ctx context.Context, o RenewOptions, cfg *v1alpha1.BootstrapConfiguration, todo []leaf, res *RenewResult, p *ui.Printer) error {
	etcdLeaf := false
	for _, l := range todo {
		etcdLeaf = etcdLeaf || l.etcd()
	}
	if !etcdLeaf || cfg.Etcd.Local == nil {
		return nil
	}
	if err := etcdHealthy(ctx, o, cfg); err != nil {
		return fmt.Errorf("etcd is not healthy, its certificates were renewed in the asset dir but not installed in %s: %w; once etcd is healthy, run renew again", cfg.Etcd.Local.CertDir, err)
	}
	if err := installEtcdFiles(o.AssetDir, cfg, todo); err != nil {
		return fmt.Errorf("installing etcd's certificates in %s (run renew on the etcd node as root): %w", cfg.Etcd.Local.CertDir, err)
	}
	p.Infof("certs", "Installed etcd's renewed certificates in %s", cfg.Etcd.Local.CertDir)
	ec, err := etcdutil.Config(o.AssetDir)
	if err != nil {
		return err
	}
	targets := map[string]string{"etcd-server": hostOf(endpoints.EtcdClient(cfg)), "etcd-peer": hostOf(endpoints.EtcdPeer(cfg))}
	for name, hostport := range targets {
		want := renewedSerial(res, name)
		if want == "" {
			continue
		}
		err := waitServed(ctx, o, hostport, ec.TLS, want, res, p)
		if err == nil {
			continue
		}
		p.Infof("certs", "etcd still serves the old certificate on %s (%v): restarting its static pod", hostport, err)
		if err := restartEtcd(cfg, o.Now()); err != nil {
			return err
		}
		if err := waitServed(ctx, o, hostport, ec.TLS, want, res, p); err != nil {
			return fmt.Errorf("etcd restarted but does not serve the renewed certificate: %w", err)
		}
		if err := etcdHealthy(ctx, o, cfg); err != nil {
			return fmt.Errorf("etcd is not healthy after its restart: %w", err)
		}
	}
	return nil
}

func etcdHealthy(ctx context.Context, o RenewOptions, cfg *v1alpha1.BootstrapConfiguration) error {
	cli, err := etcdutil.New(o.AssetDir, endpoints.EtcdClient(cfg))
	if err != nil {
		return err
	}
	defer cli.Close()
	ctx, cancel := context.WithTimeout(ctx, o.Timeout)
	defer cancel()
	st, err := cli.Status(ctx, endpoints.EtcdClient(cfg))
	if err != nil {
		return err
	}
	if st.Leader == 0 {
		return fmt.Errorf("the member has no leader")
	}
	return nil
}

// restartEtcd makes the kubelet restart the etcd static pod by changing its
// manifest (an annotation), written atomically.
func restartEtcd(cfg *v1alpha1.BootstrapConfiguration, now time.Time) error {
	path := filepath.Join(cfg.Node.StaticPodPath, "etcd.yaml")
	data, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	var pod corev1.Pod
	if err := yaml.Unmarshal(data, &pod); err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	if pod.Annotations == nil {
		pod.Annotations = map[string]string{}
	}
	pod.Annotations[RenewedAtAnnotation] = now.UTC().Format(time.RFC3339)
	out, err := yaml.Marshal(&pod)
	if err != nil {
		return err
	}
	tmp := filepath.Join(filepath.Dir(path), ".etcd.yaml.renew")
	if err := os.WriteFile(tmp, out, 0o600); err != nil {
		return err
	}
	return os.Rename(tmp, path)
}

// kubeletRotation reads every kubelet's configuration (/configz through the
// API): its client certificate is renewed by the kubelet itself only with
// rotateCertificates, and its serving one with serverTLSBootstrap.
func kubeletRotation(ctx context.Context, cs kubernetes.Interface, timeout time.Duration) []string {
	ctx, cancel := context.WithTimeout(ctx, 2*timeout)
	defer cancel()
	nodes, err := cs.CoreV1().Nodes().List(ctx, metav1.ListOptions{})
	if err != nil {
		return []string{"could not list the nodes to check the kubelets' certificate rotation: " + err.Error()}
	}
	var notes []string
	for _, n := range nodes.Items {
		body, err := cs.CoreV1().RESTClient().Get().Resource("nodes").Name(n.Name).SubResource("proxy").Suffix("configz").DoRaw(ctx)
		if err != nil {
			notes = append(notes, fmt.Sprintf("kubelet %s: could not read /configz (%v): check that it runs with rotateCertificates: true", n.Name, err))
			continue
		}
		notes = append(notes, KubeletRotationNote(n.Name, body))
	}
	return notes
}

// KubeletRotationNote judges a kubelet's /configz.
func KubeletRotationNote(node string, configz []byte) string {
	var cz struct {
		KubeletConfig struct {
			RotateCertificates bool `json:"rotateCertificates"`
			ServerTLSBootstrap bool `json:"serverTLSBootstrap"`
		} `json:"kubeletconfig"`
	}
	if err := json.Unmarshal(configz, &cz); err != nil {
		return fmt.Sprintf("kubelet %s: /configz is not a kubelet configuration (%v)", node, err)
	}
	k := cz.KubeletConfig
	if !k.RotateCertificates {
		return fmt.Sprintf("Warning: kubelet %s runs with rotateCertificates: false: its client certificate is never renewed; set rotateCertificates: true (docs/cloud-init.md) or re-issue its kubeconfig", node)
	}
	s := fmt.Sprintf("kubelet %s renews its own client certificate (rotateCertificates: true)", node)
	if k.ServerTLSBootstrap {
		s += " and serving certificate (serverTLSBootstrap: true)"
	}
	return s
}
