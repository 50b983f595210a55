//go:build e2e

package e2e

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/client-go/kubernetes"
	"k8s.io/utils/ptr"

	"github.com/bootstrap-k8s/bootstrap/e2e/framework"
)

// tokenCreated is `bootstrap token create -o json`.
type tokenCreated struct {
	ID, Token, Server, JoinCommand string
	CAHash                         string `json:"caCertHash"`
}

func createToken(t *testing.T, assetDir string, args ...string) tokenCreated {
	t.Helper()
	cmd := exec.Command(framework.BootstrapBinary(t), append([]string{"token", "create", "--asset-dir", assetDir, "-o", "json"}, args...)...)
	cmd.Stderr = os.Stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("bootstrap token create: %v\n%s", err, out)
	}
	var c tokenCreated
	if err := json.Unmarshal(out, &c); err != nil || c.Token == "" || !strings.HasPrefix(c.CAHash, "sha256:") {
		t.Fatalf("bootstrap token create -o json: %v\n%s", err, out)
	}
	return c
}

// joinOn runs `bootstrap join ARGS` on the node and returns its output and exit code.
func joinOn(t *testing.T, n *framework.Node, args ...string) (string, int) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	out, err := n.Exec(ctx, append([]string{framework.BootstrapBinary(t), "join"}, args...)...)
	var exit *exec.ExitError
	switch {
	case err == nil:
		return out, 0
	case errors.As(err, &exit):
		return out, exit.ExitCode()
	}
	t.Fatalf("bootstrap join: %v\n%s", err, out)
	return "", 0
}

// checkJoinRefusals: every bad input fails with its exit code and message,
// and leaves nothing on the node.
func checkJoinRefusals(t *testing.T, n *framework.Node, assetDir string, good tokenCreated) {
	t.Helper()
	// A token that expires in 2 s: the token cleaner deletes it, the
	// bootstrap signer drops its signature.
	expired := createToken(t, assetDir, "--ttl", "2s")
	framework.WaitT(t, "the token cleaner to delete the expired token "+expired.ID, 2*time.Minute, func(context.Context) (bool, string, error) {
		out, err := exec.Command(framework.BootstrapBinary(t), "token", "list", "--asset-dir", assetDir).CombinedOutput()
		return err == nil && !strings.Contains(string(out), expired.ID), string(out), err
	})
	kdir, kcfg := n.JoinPaths()
	id, _, _ := strings.Cut(good.Token, ".")
	unreachable := "https://" + n.HostIP + ":1"
	for _, tc := range []struct {
		name          string
		server, token string
		hash          string
		code          int
		want          string
	}{
		{"wrong token secret", good.Server, id + ".0123456789abcdef", good.CAHash, 1, "does not verify with the given token"},
		{"expired token", good.Server, expired.Token, good.CAHash, 1, "no signature for token ID " + expired.ID},
		{"wrong CA pin", good.Server, good.Token, "sha256:" + strings.Repeat("ab", 32), 1, "refusing this server"},
		{"unreachable server", unreachable, good.Token, good.CAHash, 1, "cannot read cluster-info from " + unreachable},
		{"malformed token", good.Server, "abc", good.CAHash, 3, "--token is not a bootstrap token"},
		{"malformed pin", good.Server, good.Token, "md5:00", 3, "is not a CA pin"},
	} {
		out, code := joinOn(t, n, "--server", tc.server, "--token", tc.token, "--discovery-token-ca-cert-hash", tc.hash,
			"--kubernetes-dir", kdir, "--kubelet-config", kcfg, "--timeout", "5s")
		if code != tc.code || !strings.Contains(out, tc.want) {
			t.Errorf("join with %s: exit %d, want %d with %q:\n%s", tc.name, code, tc.code, tc.want, out)
		} else {
			t.Logf("join with %s: exit %d: %s", tc.name, code, strings.TrimSpace(out))
		}
		if left := framework.FilesUnder(kdir); left != "" {
			t.Errorf("join with %s wrote %s", tc.name, left)
		}
		if _, err := os.Stat(kcfg); err == nil {
			t.Errorf("join with %s wrote %s", tc.name, kcfg)
		}
	}
}

// waitDaemonSetOnNodes waits until the DaemonSet has a Ready pod on n nodes.
func waitDaemonSetOnNodes(t *testing.T, cs kubernetes.Interface, ns, name string, n int32) {
	t.Helper()
	framework.WaitT(t, fmt.Sprintf("DaemonSet %s/%s Ready on %d nodes", ns, name, n), 3*time.Minute, func(ctx context.Context) (bool, string, error) {
		ds, err := cs.AppsV1().DaemonSets(ns).Get(ctx, name, metav1.GetOptions{})
		if err != nil {
			return false, "", err
		}
		return ds.Status.NumberReady >= n, fmt.Sprintf("%d/%d ready", ds.Status.NumberReady, ds.Status.DesiredNumberScheduled), nil
	})
}

// checkSpreadAndPodNetwork: a user Deployment spreads over both nodes, each
// node reaches the other's pods by pod IP (flannel's VXLAN), and a ClusterIP
// Service answers from pods on both nodes.
func checkSpreadAndPodNetwork(t *testing.T, cs kubernetes.Interface, n1, n2 *framework.Node) {
	t.Helper()
	ctx := context.Background()
	labels := map[string]string{"app": "spread"}
	dep := &appsv1.Deployment{ObjectMeta: metav1.ObjectMeta{Name: "spread"},
		Spec: appsv1.DeploymentSpec{Replicas: ptr.To[int32](4), Selector: &metav1.LabelSelector{MatchLabels: labels},
			Template: corev1.PodTemplateSpec{ObjectMeta: metav1.ObjectMeta{Labels: labels}, Spec: corev1.PodSpec{
				TopologySpreadConstraints: []corev1.TopologySpreadConstraint{{MaxSkew: 1, TopologyKey: corev1.LabelHostname,
					WhenUnsatisfiable: corev1.DoNotSchedule, LabelSelector: &metav1.LabelSelector{MatchLabels: labels}}},
				Containers: []corev1.Container{{Name: "server", Image: framework.TestServerImage, ImagePullPolicy: corev1.PullNever,
					Command: []string{"/usr/local/bin/testserver", "-listen=:8080"}}}}}}}
	if _, err := cs.AppsV1().Deployments("default").Create(ctx, dep, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	svc, err := cs.CoreV1().Services("default").Create(ctx, &corev1.Service{ObjectMeta: metav1.ObjectMeta{Name: "spread"},
		Spec: corev1.ServiceSpec{Selector: labels, Ports: []corev1.ServicePort{{Port: 80, TargetPort: intstr.FromInt32(8080)}}}}, metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	waitDeploymentAvailable(t, cs, "default", "spread", 3*time.Minute)
	pods, err := cs.CoreV1().Pods("default").List(ctx, metav1.ListOptions{LabelSelector: "app=spread"})
	if err != nil {
		t.Fatal(err)
	}
	byNode := map[string][]corev1.Pod{}
	for _, p := range pods.Items {
		byNode[p.Spec.NodeName] = append(byNode[p.Spec.NodeName], p)
	}
	if len(byNode[n1.Name]) == 0 || len(byNode[n2.Name]) == 0 {
		t.Fatalf("Deployment not spread over %s and %s: %v", n1.Name, n2.Name, byNode)
	}
	// Across nodes by pod IP, both ways.
	for _, c := range []struct {
		from *framework.Node
		pod  corev1.Pod
	}{{n1, byNode[n2.Name][0]}, {n2, byNode[n1.Name][0]}} {
		url := fmt.Sprintf("http://%s:8080/", c.pod.Status.PodIP)
		framework.WaitT(t, fmt.Sprintf("%s reaches pod %s on %s at %s", c.from.Name, c.pod.Name, c.pod.Spec.NodeName, url), time.Minute, func(ctx context.Context) (bool, string, error) {
			out, err := c.from.Exec(ctx, "curl", "-sS", "--max-time", "3", url)
			return err == nil && strings.Contains(out, "testserver on "+c.pod.Name), out, err
		})
	}
	// The Service answers from pods on both nodes.
	node := map[string]string{}
	for _, p := range pods.Items {
		node[p.Name] = p.Spec.NodeName
	}
	seen := map[string]bool{}
	url := fmt.Sprintf("http://%s/", svc.Spec.ClusterIP)
	framework.WaitT(t, "Service "+url+" answers from pods on both nodes", 2*time.Minute, func(ctx context.Context) (bool, string, error) {
		out, err := n1.Exec(ctx, "curl", "-sS", "--max-time", "3", url)
		if err == nil {
			seen[node[strings.TrimSpace(strings.TrimPrefix(out, "testserver on "))]] = true
		}
		return seen[n1.Name] && seen[n2.Name], fmt.Sprintf("answered from %v", seen), nil
	})
}
