//go:build e2e

package framework

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"k8s.io/client-go/tools/clientcmd"

	"github.com/bootstrap-k8s/bootstrap/pkg/apis/bootstrap/v1alpha1"
)

// kubeadm init on the harness node, for the benchmark against `bootstrap
// start`. Everything kubeadm lets us configure (certificatesDir, etcd
// dataDir) lives under the node's work dir; kubeconfigs and static pod
// manifests can only go to /etc/kubernetes, which is machine-wide: one
// kubeadm at a time (ClaimKubeadmHost).

// KubernetesDir is kubeadm's fixed directory for kubeconfigs and manifests.
const KubernetesDir = "/etc/kubernetes"

// kubeadmOwnerMarker in KubernetesDir says the e2e framework created the
// directory, so it may delete it (also after a crashed run).
const kubeadmOwnerMarker = ".created-by-bootstrap-e2e"

// ClaimKubeadmHost takes the machine-wide kubeadm lock and creates
// /etc/kubernetes with an owner marker. It refuses (fails the test) when
// /etc/kubernetes exists and we did not create it: kubeadm would overwrite
// someone's cluster. Call it BEFORE StartNode: cleanups run last-in first-out,
// so /etc/kubernetes is removed after the node (its kubelet) is torn down.
func ClaimKubeadmHost(t testing.TB) {
	t.Helper()
	lock := waitFlock(t, "/run/lock/bootstrap-e2e-kubeadm.lock", "kubeadm (writes "+KubernetesDir+" machine-wide)")
	marker := filepath.Join(KubernetesDir, kubeadmOwnerMarker)
	release := func() {
		if _, err := os.Stat(marker); err == nil {
			if err := os.RemoveAll(KubernetesDir); err != nil {
				t.Errorf("removing %s: %v", KubernetesDir, err)
			}
		}
		if _, err := os.Stat(KubernetesDir); err == nil {
			t.Errorf("%s still exists after the kubeadm run", KubernetesDir)
		}
		lock.Close()
	}
	if ents, err := os.ReadDir(KubernetesDir); err == nil {
		if _, err := os.Stat(marker); err != nil {
			lock.Close()
			var names []string
			for _, e := range ents {
				names = append(names, e.Name())
			}
			t.Fatalf("%s exists and was not created by the e2e framework (entries: %v): refusing to run kubeadm over it", KubernetesDir, names)
		}
		t.Logf("kubeadm: removing %s left by a previous e2e run", KubernetesDir)
		if err := os.RemoveAll(KubernetesDir); err != nil {
			lock.Close()
			t.Fatal(err)
		}
	}
	t.Cleanup(release)
	if err := os.MkdirAll(KubernetesDir, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(marker, []byte(fmt.Sprintf("pid %d test %s\n", os.Getpid(), t.Name())), 0o644); err != nil {
		t.Fatal(err)
	}
}

// KubeadmDir holds kubeadm's config, certificatesDir (pki) and etcd dataDir.
func (n *Node) KubeadmDir() string { return filepath.Join(n.Work, "kubeadm") }

// KubeadmConfigYAML is kubeadm's configuration for this node: same version,
// node name, advertise address, pod and service CIDRs as render's defaults;
// images are preloaded (pull policy Never); preflight errors are ignored
// (cgroup v1, no systemd, swap, ...); the kubelet-start phase (it writes
// /var/lib/kubelet and restarts the kubelet with systemctl) and CoreDNS (kubeadm
// wants v1.14.6, not built here) are skipped. etcd runs the release built
// here (both kubeadm minors would pick other tags).
func (n *Node) KubeadmConfigYAML() string {
	return fmt.Sprintf(`apiVersion: kubeadm.k8s.io/v1beta4
kind: InitConfiguration
localAPIEndpoint:
  advertiseAddress: %[1]s
  bindPort: 6443
nodeRegistration:
  name: %[2]s
  criSocket: unix://%[3]s
  imagePullPolicy: Never
  ignorePreflightErrors: [all]
skipPhases: [kubelet-start, addon/coredns]
---
apiVersion: kubeadm.k8s.io/v1beta4
kind: ClusterConfiguration
kubernetesVersion: %[5]s
certificatesDir: %[4]s/pki
etcd:
  local:
    dataDir: %[4]s/etcd
    imageTag: %[6]s
networking:
  podSubnet: 10.244.0.0/16
  serviceSubnet: 10.96.0.0/12
---
apiVersion: kubelet.config.k8s.io/v1beta1
kind: KubeletConfiguration
failCgroupV1: false
cgroupDriver: cgroupfs
failSwapOn: false
healthzBindAddress: 127.0.0.1
healthzPort: 10248
`, n.IP, n.Name, n.ContainerdSocket(), n.KubeadmDir(), n.kubeadmVersion(), v1alpha1.EtcdVersion+"-0")
}

// kubeadmVersion is the version kubeadm init installs: the previous minor
// (with its kubeadm) on a node prepared by UsePreviousVersion.
func (n *Node) kubeadmVersion() string {
	if n.KubeletBin == PreviousBin("kubelet") {
		return PreviousVersion
	}
	return KubernetesVersion
}

func (n *Node) kubeadmBin() string {
	if n.kubeadmVersion() == PreviousVersion {
		return PreviousBin("kubeadm")
	}
	return Bin("kubeadm")
}

// KubeadmInit is when things happened, measured from kubeadm's start.
type KubeadmInit struct {
	KubeletConfWritten time.Duration // kubeadm wrote a complete kubelet.conf: the kubelet is started
	KubeletStarted     time.Duration // node.sh kubelet returned (kubelet healthz answers)
	Exit               time.Duration // kubeadm init exited 0
	ControlPlaneHealth
	Total time.Duration // max(Exit, Healthy): kubeadm done and the control plane healthy
}

// RunKubeadmInit runs `kubeadm init` in the node's netns and starts the
// harness kubelet (kubeadm's kubelet.conf, its CA, static pods from
// /etc/kubernetes/manifests) as soon as kubeadm has written a complete
// kubelet.conf — as early as a kubelet can start. It returns when kubeadm has
// exited 0 and the apiserver, controller-manager and scheduler all answer
// their health checks. Needs ClaimKubeadmHost.
func (n *Node) RunKubeadmInit(t testing.TB, timeout time.Duration) KubeadmInit {
	t.Helper()
	if err := os.MkdirAll(n.KubeadmDir(), 0o755); err != nil {
		t.Fatal(err)
	}
	cfg := filepath.Join(n.KubeadmDir(), "kubeadm.yaml")
	if err := os.WriteFile(cfg, []byte(n.KubeadmConfigYAML()), 0o644); err != nil {
		t.Fatal(err)
	}
	n.StaticPodPath = filepath.Join(KubernetesDir, "manifests")
	kubeletConf := filepath.Join(KubernetesDir, "kubelet.conf")
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()

	begin := time.Now()
	p := n.Start(t, "kubeadm-init", n.kubeadmBin(), "init", "--config", cfg, "-v", "1")
	exited := make(chan time.Duration, 1)
	go func() { <-p.done; exited <- time.Since(begin) }()
	kubelet := make(chan error, 1)
	var res KubeadmInit
	go func() {
		for !kubeconfigComplete(kubeletConf) {
			select {
			case <-ctx.Done():
				kubelet <- fmt.Errorf("%s not written: %w", kubeletConf, ctx.Err())
				return
			case <-time.After(20 * time.Millisecond):
			}
		}
		res.KubeletConfWritten = time.Since(begin)
		out, err := n.scriptEnv([]string{"KUBELET_KUBECONFIG=" + kubeletConf,
			"KUBELET_CLIENT_CA=" + filepath.Join(n.KubeadmDir(), "pki", "ca.crt")}, "kubelet")
		res.KubeletStarted = time.Since(begin)
		if err != nil {
			err = fmt.Errorf("node.sh kubelet: %v\n%s\n--- kubelet log:\n%s", err, out, tailFile(filepath.Join(n.LogDir(), "kubelet.log"), 40))
		}
		kubelet <- err
	}()
	health := make(chan error, 1)
	go func() {
		var err error
		res.ControlPlaneHealth, err = n.PollControlPlaneHealth(ctx, begin)
		health <- err
	}()

	var kubeletErr, healthErr error
	exitSeen, kubeletSeen, healthSeen := false, false, false
	for !(exitSeen && kubeletSeen && healthSeen) {
		select {
		case d := <-exited:
			exitSeen, res.Exit = true, d
			if _, err := p.Exited(); err != nil {
				t.Fatalf("kubeadm init failed after %s: %v\n%s", d.Round(10*time.Millisecond), err, p.Tail(40))
			}
		case kubeletErr = <-kubelet:
			kubeletSeen = true
			if kubeletErr != nil {
				t.Fatal(kubeletErr)
			}
		case healthErr = <-health:
			healthSeen = true
			if healthErr != nil {
				t.Fatalf("control plane of kubeadm not healthy: %v\n--- kubeadm log:\n%s", healthErr, p.Tail(30))
			}
		case <-ctx.Done():
			t.Fatalf("kubeadm init: not done after %s (exited %v, kubelet %v, healthy %v)\n%s", timeout, exitSeen, kubeletSeen, healthSeen, p.Tail(30))
		}
	}
	res.Total = max(res.Exit, res.Healthy)
	t.Logf("kubeadm init: exit %s, kubelet.conf written %s, kubelet healthy %s, apiserver ready %s, controller-manager %s, scheduler %s, all healthy %s; log:\n%s",
		sec(res.Exit), sec(res.KubeletConfWritten), sec(res.KubeletStarted), sec(res.APIServerReady), sec(res.ControllerManagerHealthy), sec(res.SchedulerHealthy), sec(res.Healthy), p.Tail(15))
	return res
}

// kubeconfigComplete: kubeadm writes kubeconfigs non-atomically; a kubelet
// started on a half-written one would exit.
func kubeconfigComplete(path string) bool {
	cfg, err := clientcmd.LoadFromFile(path)
	if err != nil || cfg.CurrentContext == "" {
		return false
	}
	ctx := cfg.Contexts[cfg.CurrentContext]
	if ctx == nil {
		return false
	}
	ai := cfg.AuthInfos[ctx.AuthInfo]
	return ai != nil && (len(ai.ClientKeyData) > 0 || ai.ClientKey != "")
}

// scriptEnv is script with extra environment (later entries win).
func (n *Node) scriptEnv(env []string, args ...string) (string, error) {
	cmd := exec.Command("bash", append([]string{NodeScript()}, args...)...)
	cmd.Env = append(append(os.Environ(), n.Env()...), env...)
	out, err := cmd.CombinedOutput()
	return string(out), err
}

func sec(d time.Duration) string { return fmt.Sprintf("%.2fs", d.Seconds()) }

// waitFlock takes an exclusive flock on path, waiting (and saying so) up to
// 30 minutes. Closing the file releases it.
func waitFlock(t testing.TB, path, what string) *os.File {
	t.Helper()
	f, err := os.OpenFile(path, os.O_CREATE|os.O_RDWR, 0o644)
	if err != nil {
		t.Fatalf("lock %s: %v", path, err)
	}
	start := time.Now()
	for tryFlock(f) != nil {
		if time.Since(start) > 30*time.Minute {
			f.Close()
			t.Fatalf("lock %s for %s: still held after 30 min (%s)", path, what, readHolder(path))
		}
		if time.Since(start)%(30*time.Second) < time.Second {
			t.Logf("waiting for the lock %s for %s (held by %s)", path, what, strings.TrimSpace(readHolder(path)))
		}
		time.Sleep(time.Second)
	}
	_ = f.Truncate(0)
	_, _ = f.WriteAt([]byte(fmt.Sprintf("pid %d test %s since %s\n", os.Getpid(), t.Name(), time.Now().UTC().Format(time.RFC3339))), 0)
	return f
}

func tryFlock(f *os.File) error { return syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB) }
