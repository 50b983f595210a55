//go:build e2e

package framework

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// Node is the e2e node: a network namespace with containerd (and, after
// StartKubelet, a real kubelet) in it, reachable from the test at IP.
type Node struct {
	Name   string // Node object name (kubelet --hostname-override)
	IP     string // node IP inside the netns; apiservers bind here
	HostIP string // the host's end of the veth pair
	Netns  string
	Work   string // work dir: containerd, kubelet, logs, PID files
	// StaticPodPath is the kubelet's static pod dir (render's node.staticPodPath).
	StaticPodPath string
	// KubeletBin is the kubelet the node runs (empty: BinDir()/kubelet); the
	// upgrade scenarios start on the previous minor's and replace it.
	KubeletBin string
	// Bridge is the host bridge of a multi-node segment (empty: the single
	// node's veth pair); CNI the conflist the node starts with (node.sh NODE_CNI).
	Bridge, CNI string

	t         testing.TB
	lock      *os.File
	mu        sync.Mutex
	procs     []*Process
	assetDir  string
	collected bool
}

// NodeOptions override the defaults of hack/node/env.sh.
type NodeOptions struct {
	Name, IP, HostIP, Netns, Work string
	// Bridge and CNI: multi-node mode (see MultiNodeOptions).
	Bridge, CNI string
}

var buildOnce sync.Once
var buildErr error

// EnsureBuilt runs hack/build-binaries.sh and hack/build-images.sh once per
// test process (seconds when warm), unless BOOTSTRAP_E2E_SKIP_BUILD=1.
func EnsureBuilt(t testing.TB) {
	t.Helper()
	buildOnce.Do(func() {
		if truthy(os.Getenv("BOOTSTRAP_E2E_SKIP_BUILD")) {
			return
		}
		for _, s := range []string{"build-binaries.sh", "build-images.sh"} {
			start := time.Now()
			out, err := exec.Command("bash", filepath.Join(HackDir(), s)).CombinedOutput()
			if err != nil {
				buildErr = fmt.Errorf("hack/%s: %v\n%s", s, err, out)
				return
			}
			t.Logf("hack/%s: %s", s, time.Since(start).Round(100*time.Millisecond))
		}
	})
	if buildErr != nil {
		t.Fatal(buildErr)
	}
}

// StartNode tears down whatever a previous run left, then brings up the
// node's runtime: packages, netns, containerd, images (hack/node/node.sh
// runtime). The kubelet is started separately (StartKubelet) because it needs
// an asset dir. On test cleanup the node's logs are collected if the test
// failed, and the node is torn down unless BOOTSTRAP_E2E_KEEP=1.
func StartNode(t testing.TB, o NodeOptions) *Node {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("e2e tests need root (containerd, kubelet, network namespaces)")
	}
	EnsureBuilt(t)
	n := &Node{
		Name:   firstNonEmpty(o.Name, DefaultNodeName),
		IP:     firstNonEmpty(o.IP, envOr("BOOTSTRAP_E2E_NODE_IP", DefaultNodeIP)),
		HostIP: firstNonEmpty(o.HostIP, envOr("BOOTSTRAP_E2E_HOST_IP", DefaultHostIP)),
		Netns:  firstNonEmpty(o.Netns, envOr("BOOTSTRAP_E2E_NETNS", DefaultNetns)),
		Work:   firstNonEmpty(o.Work, envOr("BOOTSTRAP_E2E_WORK", DefaultWork)),
		Bridge: o.Bridge,
		CNI:    o.CNI,
		t:      t,
	}
	n.StaticPodPath = filepath.Join(n.Work, "manifests")
	// One test process at a time per node (netns, IPs, work dir are fixed):
	// wait for the node lock, held until cleanup.
	n.lock = lockNode(t, n.Netns)
	t.Cleanup(n.cleanup)
	// A previous run that crashed or was kept: clean up first.
	if _, err := os.Stat("/run/netns/" + n.Netns); err == nil || dirExists(n.Work) {
		t.Logf("node: leftovers of a previous run found; tearing them down first")
		if out, err := n.script("down"); err != nil {
			t.Fatalf("node.sh down (pre-clean): %v\n%s", err, out)
		}
	}
	start := time.Now()
	if out, err := n.script("runtime"); err != nil {
		t.Fatalf("node.sh runtime: %v\n%s\n--- containerd log:\n%s", err, out, tailFile(filepath.Join(n.LogDir(), "containerd.log"), 40))
	}
	t.Logf("node: runtime up (netns %s, node IP %s, containerd + images) in %s", n.Netns, n.IP, time.Since(start).Round(10*time.Millisecond))
	return n
}

// LogDir holds containerd.log, kubelet.log and the logs of every process
// started with Start.
func (n *Node) LogDir() string { return filepath.Join(n.Work, "logs") }

// RunDir holds PID files.
func (n *Node) RunDir() string { return filepath.Join(n.Work, "run") }

// ContainerdSocket is the node's containerd (CRI) socket.
func (n *Node) ContainerdSocket() string {
	return filepath.Join(n.Work, "containerd", "containerd.sock")
}

// PodLogsDir is the kubelet's podLogsDir.
func (n *Node) PodLogsDir() string { return filepath.Join(n.Work, "pod-logs") }

// Env is the environment hack/node/node.sh needs to address this node.
func (n *Node) Env() []string {
	env := []string{
		"NODE_NAME=" + n.Name, "NODE_IP=" + n.IP, "HOST_IP=" + n.HostIP, "NODE_NETNS=" + n.Netns,
		"NODE_WORK=" + n.Work, "STATIC_POD_PATH=" + n.StaticPodPath,
	}
	if n.KubeletBin != "" {
		env = append(env, "KUBELET_BIN="+n.KubeletBin)
	}
	if n.Bridge != "" {
		env = append(env, "NODE_BRIDGE="+n.Bridge)
	}
	if n.CNI != "" {
		env = append(env, "NODE_CNI="+n.CNI)
	}
	return env
}

func (n *Node) script(args ...string) (string, error) {
	cmd := exec.Command("bash", append([]string{NodeScript()}, args...)...)
	cmd.Env = append(os.Environ(), n.Env()...)
	out, err := cmd.CombinedOutput()
	return string(out), err
}

// StartKubelet starts the real kubelet against assetDir/auth/kubelet.kubeconfig
// (client CA assetDir/tls/ca.crt) and waits for its healthz.
func (n *Node) StartKubelet(t testing.TB, assetDir string) {
	t.Helper()
	n.mu.Lock()
	n.assetDir = assetDir
	n.mu.Unlock()
	start := time.Now()
	out, err := n.script("kubelet", assetDir)
	if err != nil {
		t.Fatalf("node.sh kubelet: %v\n%s\n--- kubelet log:\n%s", err, out, tailFile(filepath.Join(n.LogDir(), "kubelet.log"), 60))
	}
	t.Logf("node: kubelet healthy in %s", time.Since(start).Round(10*time.Millisecond))
}

// StopKubelet stops the kubelet (pods keep running in containerd).
func (n *Node) StopKubelet(t testing.TB) {
	t.Helper()
	if out, err := n.script("stop", "kubelet"); err != nil {
		t.Fatalf("node.sh stop kubelet: %v\n%s", err, out)
	}
}

// Start runs argv in the node's network namespace in the background; its
// output goes to LogDir()/<name>.log. It is stopped at cleanup (after logs are
// collected) and by `node.sh down`.
func (n *Node) Start(t testing.TB, name string, argv ...string) *Process {
	t.Helper()
	return n.start(t, name, false, nil, argv...)
}

// StartOnHost is Start in the host's network namespace.
func (n *Node) StartOnHost(t testing.TB, name string, argv ...string) *Process {
	t.Helper()
	return n.start(t, name, true, nil, argv...)
}

// StartWithEnv is Start with extra environment variables (KEY=VALUE).
func (n *Node) StartWithEnv(t testing.TB, name string, env []string, argv ...string) *Process {
	t.Helper()
	return n.start(t, name, false, env, argv...)
}

func (n *Node) start(t testing.TB, name string, host bool, env []string, argv ...string) *Process {
	t.Helper()
	p, err := n.startProcess(name, host, env, argv...)
	if err != nil {
		t.Fatal(err)
	}
	n.mu.Lock()
	n.procs = append(n.procs, p)
	n.mu.Unlock()
	t.Logf("node: started %s (pid %d, log %s)", name, p.Pid(), p.LogPath)
	return p
}

// Exec runs a command in the node's network namespace and returns its combined output.
func (n *Node) Exec(ctx context.Context, argv ...string) (string, error) {
	cmd := exec.CommandContext(ctx, "nsenter", append(n.nsenterArgs(), argv...)...)
	out, err := cmd.CombinedOutput()
	return string(out), err
}

// nsenterArgs enter the node: its netns, and in multi-node mode its mount
// namespace (hack/node/node.sh ensure_mntns), then "--".
func (n *Node) nsenterArgs() []string {
	args := []string{"--net=/run/netns/" + n.Netns}
	if n.Bridge != "" {
		args = append(args, "--mount=/run/bootstrap-e2e-mnt/"+n.Netns)
	}
	return append(args, "--")
}

// cleanup: collect artifacts on failure, stop our processes, tear down.
func (n *Node) cleanup() {
	t := n.t
	defer n.lock.Close() // releases the node lock
	if t.Failed() || truthy(os.Getenv("BOOTSTRAP_E2E_ALWAYS_COLLECT")) {
		n.CollectArtifacts(t)
	}
	if Keep() {
		t.Logf("BOOTSTRAP_E2E_KEEP=1: leaving the node up. Inspect with:\n"+
			"  %s status\n  %s exec -- ip addr\n  %s crilist\n  logs: %s\n"+
			"Tear it down with:\n  %s %s down",
			NodeScript(), NodeScript(), NodeScript(), n.LogDir(), strings.Join(n.Env(), " "), NodeScript())
		return
	}
	n.mu.Lock()
	procs := append([]*Process(nil), n.procs...)
	n.mu.Unlock()
	for i := len(procs) - 1; i >= 0; i-- {
		procs[i].Stop(5 * time.Second)
	}
	start := time.Now()
	out, err := n.script("down")
	if err != nil {
		t.Errorf("node.sh down: %v\n%s", err, out)
		return
	}
	t.Logf("node: torn down in %s", time.Since(start).Round(10*time.Millisecond))
	if left := n.Leftovers(); len(left) > 0 {
		t.Errorf("node.sh down left things behind: %s", strings.Join(left, "; "))
	}
}

// Leftovers lists what of the node still exists (empty after a clean teardown).
func (n *Node) Leftovers() []string {
	var left []string
	if _, err := os.Stat("/run/netns/" + n.Netns); err == nil {
		left = append(left, "netns "+n.Netns)
	}
	if dirExists(n.Work) {
		left = append(left, "work dir "+n.Work)
	}
	if b, err := os.ReadFile("/proc/self/mountinfo"); err == nil {
		for _, l := range strings.Split(string(b), "\n") {
			f := strings.Fields(l)
			if len(f) > 4 && strings.HasPrefix(f[4], n.Work+"/") {
				left = append(left, "mount "+f[4])
			}
		}
	}
	if _, err := os.Stat("/run/bootstrap-e2e-mnt/" + n.Netns); err == nil {
		left = append(left, "mount namespace /run/bootstrap-e2e-mnt/"+n.Netns)
	}
	if out, err := exec.Command("ip", "link", "show", n.Netns+"-h").CombinedOutput(); err == nil {
		left = append(left, "link "+strings.Fields(string(out))[1])
	}
	cg := "/bootstrap-e2e"
	if n.Netns != DefaultNetns {
		cg += "-" + n.Netns
	}
	for _, h := range []string{"pids", "memory", "cpu"} {
		if dirExists(filepath.Join("/sys/fs/cgroup", h, cg)) {
			left = append(left, "cgroup "+filepath.Join("/sys/fs/cgroup", h, cg))
		}
	}
	for _, p := range []string{"kubelet", "containerd"} {
		// Work + "/": a second node's work dir (node2) must not match this node's (node).
		if pids := pidsWithArg(p, n.Work+"/"); len(pids) > 0 {
			left = append(left, fmt.Sprintf("%s processes %v", p, pids))
		}
	}
	return left
}

// pidsWithArg finds processes named name whose command line mentions arg.
func pidsWithArg(name, arg string) []string {
	var pids []string
	ents, _ := os.ReadDir("/proc")
	for _, e := range ents {
		b, err := os.ReadFile(filepath.Join("/proc", e.Name(), "cmdline"))
		if err != nil || len(b) == 0 {
			continue
		}
		args := strings.Split(strings.TrimRight(string(b), "\x00"), "\x00")
		if filepath.Base(args[0]) == name && strings.Contains(string(b), arg) {
			pids = append(pids, e.Name())
		}
	}
	return pids
}

func dirExists(p string) bool {
	fi, err := os.Stat(p)
	return err == nil && fi.IsDir()
}

func firstNonEmpty(v ...string) string {
	for _, s := range v {
		if s != "" {
			return s
		}
	}
	return ""
}

// lockNode takes an exclusive flock on /run/lock/bootstrap-e2e-<netns>.lock,
// waiting (and saying so) while another test process holds it.
func lockNode(t testing.TB, netns string) *os.File {
	t.Helper()
	path := "/run/lock/bootstrap-e2e-" + netns + ".lock"
	_ = os.MkdirAll(filepath.Dir(path), 0o755)
	f, err := os.OpenFile(path, os.O_CREATE|os.O_RDWR, 0o644)
	if err != nil {
		t.Fatalf("node lock: %v", err)
	}
	start := time.Now()
	nextLog := start
	for {
		err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB)
		if err == nil {
			break
		}
		if err != syscall.EWOULDBLOCK {
			t.Fatalf("node lock %s: %v", path, err)
		}
		if time.Since(start) > 30*time.Minute {
			t.Fatalf("node lock %s: still held by another e2e run after 30 min (holder: %s)", path, readHolder(path))
		}
		if time.Now().After(nextLog) {
			nextLog = time.Now().Add(30 * time.Second)
			t.Logf("waiting for the e2e node lock %s (held by another test run: %s)", path, readHolder(path))
		}
		time.Sleep(time.Second)
	}
	if d := time.Since(start); d > time.Second {
		t.Logf("node lock acquired after %s", d.Round(time.Second))
	}
	_ = f.Truncate(0)
	_, _ = f.WriteAt([]byte(fmt.Sprintf("pid %d test %s since %s\n", os.Getpid(), t.Name(), time.Now().UTC().Format(time.RFC3339))), 0)
	return f
}

func readHolder(path string) string {
	b, _ := os.ReadFile(path)
	return strings.TrimSpace(string(b))
}
