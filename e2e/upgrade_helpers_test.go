//go:build e2e

package e2e

import (
	"context"
	"fmt"
	"os/exec"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/client-go/kubernetes"

	"github.com/bootstrap-k8s/bootstrap/e2e/framework"
	"github.com/bootstrap-k8s/bootstrap/pkg/assets"
)

// upgradeNodePort is where the upgrade scenarios reach the user Service from
// the host, through kube-proxy on the node.
const upgradeNodePort = 30480

// startOnPreviousVersion brings up a node and a cluster on the previous
// minor (its kubelet, its control-plane images) with the recover scenarios'
// user objects, a NodePort Service in front of their Deployment, and
// returns the asset dir, a client and the Service's URL.
func startOnPreviousVersion(t *testing.T) (*framework.Node, string, *kubernetes.Clientset, string) {
	t.Helper()
	node := framework.StartNode(t, framework.NodeOptions{})
	node.UsePreviousVersion(t)
	assetDir := node.Render(t, "--kubernetes-version", framework.PreviousVersion)
	node.StartKubelet(t, assetDir)
	if _, err := runStart(t, node, assetDir, 10*time.Minute); err != nil {
		t.Fatalf("bootstrap start on %s: %v", framework.PreviousVersion, err)
	}
	cs := framework.MustClient(t, assets.Path(assetDir, assets.AdminKubeconfig))
	waitKubeSystemReady(t, cs)
	checkRunsVersion(t, cs, framework.PreviousVersion)
	createWorkload(t, cs, upgradeNamespaces)
	ctx := context.Background()
	_, err := cs.CoreV1().Services(upgradeNamespaces[0]).Create(ctx, &corev1.Service{ObjectMeta: metav1.ObjectMeta{Name: "web-nodeport"},
		Spec: corev1.ServiceSpec{Type: corev1.ServiceTypeNodePort, Selector: map[string]string{"app": "web"},
			Ports: []corev1.ServicePort{{Port: 80, TargetPort: intstr.FromInt32(8080), NodePort: upgradeNodePort}}}}, metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	waitDeploymentAvailable(t, cs, upgradeNamespaces[0], "web", 3*time.Minute)
	url := fmt.Sprintf("http://%s:%d/", node.IP, upgradeNodePort)
	framework.WaitT(t, "the user Service "+url, 2*time.Minute, func(ctx context.Context) (bool, string, error) {
		out, err := exec.CommandContext(ctx, "curl", "-sS", "--max-time", "3", url).CombinedOutput()
		return err == nil && strings.Contains(string(out), "testserver on"), string(out), nil
	})
	return node, assetDir, cs, url
}

var upgradeNamespaces = []string{"upgrade-0", "upgrade-1"}

// checkRunsVersion: the API serves version, and every control-plane pod
// runs that version's image and is Ready (waiting a little: add-ons such as
// kube-proxy get their pods after start exits). Kubelets are a node step:
// checkKubeletVersion.
func checkRunsVersion(t *testing.T, cs kubernetes.Interface, version string) {
	t.Helper()
	framework.WaitT(t, "the control plane on "+version, 2*time.Minute, func(ctx context.Context) (bool, string, error) {
		var problems []string
		v, err := cs.Discovery().ServerVersion()
		if err != nil || v.GitVersion != version {
			problems = append(problems, fmt.Sprintf("the API serves %v (%v)", v, err))
		}
		pods, err := cs.CoreV1().Pods(assets.KubeSystem).List(ctx, metav1.ListOptions{})
		if err != nil {
			return false, "", err
		}
		seen := map[string]int{}
		for i := range pods.Items {
			p := &pods.Items[i]
			comp := p.Labels[assets.ComponentLabel]
			switch comp {
			case assets.KubeAPIServer, assets.KubeControllerManager, assets.KubeScheduler, assets.KubeProxy:
			default:
				continue
			}
			if p.DeletionTimestamp != nil {
				problems = append(problems, fmt.Sprintf("%s pod %s is still terminating", comp, p.Name))
				continue
			}
			seen[comp]++
			if img := p.Spec.Containers[0].Image; !strings.HasSuffix(img, ":"+version) {
				problems = append(problems, fmt.Sprintf("%s pod %s runs %s", comp, p.Name, img))
			}
			if !ready(p) {
				problems = append(problems, fmt.Sprintf("%s pod %s is not Ready: %s", comp, p.Name, framework.PodSummary(p)))
			}
		}
		for _, comp := range []string{assets.KubeAPIServer, assets.KubeControllerManager, assets.KubeScheduler, assets.KubeProxy} {
			if seen[comp] == 0 {
				problems = append(problems, "no "+comp+" pod")
			}
		}
		return len(problems) == 0, strings.Join(problems, "; "), nil
	})
}

// checkKubeletVersion: every Node's kubelet reports version.
func checkKubeletVersion(t *testing.T, cs kubernetes.Interface, version string) {
	t.Helper()
	framework.WaitT(t, "every kubelet on "+version+" and Ready", 2*time.Minute, func(ctx context.Context) (bool, string, error) {
		nodes, err := cs.CoreV1().Nodes().List(ctx, metav1.ListOptions{})
		if err != nil {
			return false, "", err
		}
		var state []string
		ok := len(nodes.Items) > 0
		for _, n := range nodes.Items {
			r := false
			for _, c := range n.Status.Conditions {
				r = r || c.Type == corev1.NodeReady && c.Status == corev1.ConditionTrue
			}
			ok = ok && r && n.Status.NodeInfo.KubeletVersion == version
			state = append(state, fmt.Sprintf("%s %s ready=%v", n.Name, n.Status.NodeInfo.KubeletVersion, r))
		}
		return ok, strings.Join(state, ", "), nil
	})
}

// checkLeasesFresh: the controllers' leases are held and renewed lately.
func checkLeasesFresh(t *testing.T, cs kubernetes.Interface) {
	t.Helper()
	framework.WaitT(t, "controller leases held and fresh", time.Minute, func(ctx context.Context) (bool, string, error) {
		var state []string
		ok := true
		for _, name := range []string{assets.KubeControllerManager, assets.KubeScheduler} {
			l, err := cs.CoordinationV1().Leases(assets.KubeSystem).Get(ctx, name, metav1.GetOptions{})
			if err != nil {
				return false, "", err
			}
			fresh := l.Spec.HolderIdentity != nil && l.Spec.RenewTime != nil && time.Since(l.Spec.RenewTime.Time) < 20*time.Second
			ok = ok && fresh
			state = append(state, fmt.Sprintf("%s held by %v fresh=%v", name, ptrStr(l.Spec.HolderIdentity), fresh))
		}
		return ok, strings.Join(state, "; "), nil
	})
}

func ptrStr(p *string) string {
	if p == nil {
		return "<nobody>"
	}
	return *p
}

// kubectlAs runs the real kubectl (the new version's, as users would)
// against the admin kubeconfig.
func kubectlAs(t *testing.T, assetDir string, args ...string) (string, error) {
	t.Helper()
	cmd := exec.Command(framework.Bin("kubectl"), append([]string{"--kubeconfig", assets.Path(assetDir, assets.AdminKubeconfig)}, args...)...)
	out, err := cmd.CombinedOutput()
	t.Logf("kubectl %s (%v):\n%s", strings.Join(args, " "), err, strings.TrimSpace(string(out)))
	return string(out), err
}

// rolloutStatus waits for kubectl rollout status of one workload; the watch
// it uses can be cut while kube-apiserver itself is replaced, so a failure
// is retried (as the docs tell users) until the deadline. A first failure
// logs what the roll-out stall of docs/upgrades.md needs: every TCP
// connection with the process that holds it, and the kube-system pods.
func rolloutStatus(t *testing.T, node *framework.Node, assetDir, what string, timeout time.Duration) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for attempt := 1; ; attempt++ {
		_, err := kubectlAs(t, assetDir, "-n", assets.KubeSystem, "rollout", "status", what, "--timeout", "3m")
		if err == nil {
			return
		}
		if attempt == 1 {
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			out, _ := node.Exec(ctx, "ss", "-tnpi")
			cancel()
			t.Logf("roll-out of %s not done after one kubectl rollout status; sockets:\n%s", what, out)
			_, _ = kubectlAs(t, assetDir, "-n", assets.KubeSystem, "get", "pods,leases", "-o", "wide")
			// Beside ArtifactDir, not in it: CollectArtifacts empties that dir
			// when the test fails.
			ctx, cancel = context.WithTimeout(context.Background(), 90*time.Second)
			node.DumpControllerManagerMetrics(ctx, assets.Path(assetDir, assets.AdminKubeconfig), framework.ArtifactDir(t)+"-stall")
			cancel()
			t.Logf("controller-manager errors (last 40):\n%s", strings.Join(node.PodLogLines(assets.KubeControllerManager, 40, "failed with", "not as new as", "E1", "W1"), "\n"))
		}
		if time.Now().After(deadline) {
			t.Fatalf("kubectl rollout status %s did not succeed within %s", what, timeout)
		}
		time.Sleep(time.Second)
	}
}

func containsLine(out, line string) bool {
	for _, l := range strings.Split(out, "\n") {
		if strings.TrimSpace(l) == line {
			return true
		}
	}
	return false
}
