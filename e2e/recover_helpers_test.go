//go:build e2e

package e2e

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/clientcmd"

	"github.com/bootstrap-k8s/bootstrap/e2e/framework"
	"github.com/bootstrap-k8s/bootstrap/internal/testetcd"
	"github.com/bootstrap-k8s/bootstrap/pkg/assets"
	"github.com/bootstrap-k8s/bootstrap/pkg/kubeapply"
	"github.com/bootstrap-k8s/bootstrap/pkg/recovery"
	"github.com/bootstrap-k8s/bootstrap/pkg/tempcontrolplane"
)

// durableKinds are the kinds whose objects a recovery must keep exactly:
// same UID, same labels, same content apart from metadata and status.
// (Pods, events, leases, endpoints and ReplicaSets are live state.)
var durableKinds = []schema.GroupVersionResource{
	{Version: "v1", Resource: "namespaces"},
	{Version: "v1", Resource: "configmaps"},
	{Version: "v1", Resource: "secrets"},
	{Version: "v1", Resource: "services"},
	{Version: "v1", Resource: "serviceaccounts"},
	{Group: "apps", Version: "v1", Resource: "deployments"},
	{Group: "apps", Version: "v1", Resource: "daemonsets"},
	{Group: "rbac.authorization.k8s.io", Version: "v1", Resource: "clusterroles"},
	{Group: "rbac.authorization.k8s.io", Version: "v1", Resource: "clusterrolebindings"},
	{Group: "rbac.authorization.k8s.io", Version: "v1", Resource: "roles"},
	{Group: "rbac.authorization.k8s.io", Version: "v1", Resource: "rolebindings"},
	{Group: "policy", Version: "v1", Resource: "poddisruptionbudgets"},
}

// allDurableObjects fingerprints every object of durableKinds, by
// resource/namespace/name.
func allDurableObjects(t *testing.T, kubeconfig string) map[string]string {
	t.Helper()
	cfg, err := clientcmd.BuildConfigFromFlags("", kubeconfig)
	if err != nil {
		t.Fatal(err)
	}
	dyn := dynamic.NewForConfigOrDie(cfg)
	out := map[string]string{}
	for _, gvr := range durableKinds {
		list, err := dyn.Resource(gvr).List(context.Background(), metav1.ListOptions{})
		if err != nil {
			t.Fatalf("listing %s: %v", gvr.Resource, err)
		}
		for _, o := range list.Items {
			content := map[string]any{}
			for k, v := range o.Object {
				if k != "metadata" && k != "status" {
					content[k] = v
				}
			}
			content["labels"] = o.GetLabels()
			out[gvr.Resource+"/"+o.GetNamespace()+"/"+o.GetName()] = fingerprint(o.GetUID(), content)
		}
	}
	return out
}

// compareDurable reports objects of before that are missing or changed in
// after, except those named in replaced (re-created on purpose).
func compareDurable(t *testing.T, what string, before, after map[string]string, replaced ...string) {
	t.Helper()
	skip := map[string]bool{}
	for _, k := range replaced {
		skip[k] = true
	}
	compared, missing, changed := 0, 0, 0
	for k, v := range before {
		if skip[k] {
			continue
		}
		compared++
		switch got, ok := after[k]; {
		case !ok:
			missing++
			t.Errorf("%s: %s is missing", what, k)
		case got != v:
			changed++
			t.Errorf("%s: %s changed:\n before %s\n after  %s", what, k, v, got)
		}
	}
	t.Logf("%s: %d objects compared, %d missing, %d changed", what, compared, missing, changed)
}

// nodeState is what a refused recover must leave exactly as it was: the
// files of the asset dir, the static pods and every etcd data dir (path,
// mode, size, mtime), the pod sandboxes, and no bootstrap process or
// temporary control-plane port.
func nodeState(t *testing.T, node *framework.Node, assetDir string) string {
	t.Helper()
	var lines []string
	roots := []string{assetDir, node.StaticPodPath}
	matches, _ := filepath.Glob(filepath.Join(node.Work, "*etcd*"))
	roots = append(roots, matches...)
	for _, root := range roots {
		filepath.Walk(root, func(p string, fi os.FileInfo, err error) error {
			if err != nil {
				lines = append(lines, p+" "+err.Error())
				return nil
			}
			lines = append(lines, fmt.Sprintf("%s %s %d %s", p, fi.Mode(), fi.Size(), fi.ModTime().Format(time.RFC3339Nano)))
			return nil
		})
	}
	out, err := exec.Command(framework.Bin("cricleanup"), "-address", node.ContainerdSocket(), "-list").CombinedOutput()
	if err != nil {
		t.Fatalf("listing pod sandboxes: %v\n%s", err, out)
	}
	for _, l := range strings.Split(string(out), "\n") {
		if strings.HasPrefix(l, "sandbox ") {
			lines = append(lines, l)
		}
	}
	if pids, _ := exec.Command("pgrep", "-f", "bootstrap (start|recover)").Output(); len(pids) > 0 {
		lines = append(lines, "bootstrap processes: "+strings.TrimSpace(string(pids)))
	}
	ss, _ := node.Exec(context.Background(), "ss", "-Hltn", "( sport = :12379 or sport = :12380 )")
	if s := strings.TrimSpace(ss); s != "" {
		lines = append(lines, "boot etcd ports bound: "+s)
	}
	sort.Strings(lines)
	return strings.Join(lines, "\n")
}

// runRecover runs `bootstrap recover ARGS --install-guard=false` in the node
// and returns its output and exit code. Without the guard: the scenarios that
// use it recover by hand, again and again.
func runRecover(t *testing.T, node *framework.Node, timeout time.Duration, args ...string) (string, int) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	argv := append(append([]string{framework.BootstrapBinary(t), "recover"}, args...), "--install-guard=false")
	out, err := node.Exec(ctx, argv...)
	var ee *exec.ExitError
	switch {
	case err == nil:
		return out, 0
	case errors.As(err, &ee):
		return out, ee.ExitCode()
	}
	t.Fatalf("running bootstrap recover: %v\n%s", err, out)
	return "", -1
}

// anotherClustersSnapshot makes a real snapshot of another cluster: its own
// asset dir (own CAs; served on 127.0.0.1, which its certificates name), the temporary control plane on it, every rendered
// manifest applied, then `bootstrap backup`'s code.
func anotherClustersSnapshot(t *testing.T) string {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "other-assets")
	if out, err := exec.Command(framework.BootstrapBinary(t), "render", "--asset-dir", dir,
		"--advertise-address", "192.0.2.10", "--node-name", "other").CombinedOutput(); err != nil {
		t.Fatalf("rendering another cluster: %v\n%s", err, out)
	}
	cp, err := tempcontrolplane.New(tempcontrolplane.Config{
		AssetDir: dir, BindAddress: "127.0.0.1", BindPort: testetcd.FreePort(t),
		EtcdDataDir: filepath.Join(t.TempDir(), "etcd"), EtcdClientPort: testetcd.FreePort(t), EtcdPeerPort: testetcd.FreePort(t),
		EtcdLogLevel: "fatal",
	})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	if err := cp.Start(ctx); err != nil {
		t.Fatal(err)
	}
	defer cp.Stop()
	objs, err := kubeapply.ReadManifests(assets.Path(dir, assets.ManifestsDir))
	if err != nil {
		t.Fatal(err)
	}
	a, err := kubeapply.NewApplier(cp.AdminConfig(), func(string, ...any) {})
	if err != nil {
		t.Fatal(err)
	}
	if err := a.ApplyInTiers(ctx, objs, time.Minute); err != nil {
		t.Fatal(err)
	}
	snap := filepath.Join(t.TempDir(), "other-cluster.db")
	if _, err := recovery.Backup(ctx, recovery.BackupOptions{AssetDir: dir, Output: snap, Endpoints: []string{cp.EtcdEndpoint()}}); err != nil {
		t.Fatal(err)
	}
	return snap
}

// waitAPIGone waits until nothing answers on the cluster's API endpoint.
func waitAPIGone(t *testing.T, cs kubernetes.Interface) {
	t.Helper()
	fails := 0
	framework.WaitT(t, "the API to be gone", 3*time.Minute, func(ctx context.Context) (bool, string, error) {
		if _, err := cs.Discovery().ServerVersion(); err != nil {
			fails++
			return fails >= 3, err.Error(), nil
		}
		fails = 0
		return false, "still answering", nil
	})
}

// assertSelfHostedAndSettled: every kube-system pod becomes Ready, the API
// is served by the self-hosted kube-apiserver (not the temporary one), and
// no container crash-loops or restarts while we watch for 30 s.
func assertSelfHostedAndSettled(t *testing.T, cs kubernetes.Interface) {
	t.Helper()
	waitKubeSystemReady(t, cs)
	v, err := cs.Discovery().ServerVersion()
	if err != nil || tempcontrolplane.IsTemporary(v) || v.GitVersion != framework.KubernetesVersion {
		t.Errorf("/version after recover: %+v, %v; want kube-apiserver %s", v, err, framework.KubernetesVersion)
	}
	restarts := func() map[string]int32 {
		pods, err := cs.CoreV1().Pods(assets.KubeSystem).List(context.Background(), metav1.ListOptions{})
		if err != nil {
			t.Fatal(err)
		}
		out := map[string]int32{}
		for _, p := range pods.Items {
			for _, c := range p.Status.ContainerStatuses {
				out[p.Name+"/"+c.Name] = c.RestartCount
				if w := c.State.Waiting; w != nil && w.Reason == "CrashLoopBackOff" {
					t.Errorf("%s/%s is crash-looping: %s", p.Name, c.Name, framework.PodSummary(&p))
				}
			}
		}
		return out
	}
	first := restarts()
	time.Sleep(30 * time.Second)
	for k, n := range restarts() {
		if n > first[k] {
			t.Errorf("container %s restarted %d time(s) in 30 s after recover", k, n-first[k])
		}
	}
}

// waitKubeSystemReady waits until every kube-system pod is Ready, with the
// add-ons (kube-proxy, CoreDNS) and second replicas that start (with its
// default --wait=control-plane) does not wait for.
func waitKubeSystemReady(t *testing.T, cs kubernetes.Interface) {
	t.Helper()
	framework.WaitT(t, "every kube-system pod Ready", 3*time.Minute, func(ctx context.Context) (bool, string, error) {
		pods, err := cs.CoreV1().Pods(assets.KubeSystem).List(ctx, metav1.ListOptions{})
		if err != nil {
			return false, "", err
		}
		var notReady []string
		for i := range pods.Items {
			p := &pods.Items[i]
			coreDNSMissing := p.Labels["k8s-app"] == "kube-dns" && !framework.HasImage(framework.CoreDNSImage)
			if p.DeletionTimestamp == nil && !coreDNSMissing && !ready(p) {
				notReady = append(notReady, p.Name)
			}
		}
		return len(notReady) == 0 && len(pods.Items) > 0, fmt.Sprintf("not Ready: %v", notReady), nil
	})
}
