//go:build e2e && bench

package bench

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/utils/ptr"

	"github.com/bootstrap-k8s/bootstrap/e2e/framework"
	"github.com/bootstrap-k8s/bootstrap/pkg/assets"
)

// TestBench alternates A (bootstrap render + start) and B (kubeadm init),
// BENCH_RUNS times each, every run on a fresh node, then measures
// BENCH_RECOVERIES `bootstrap recover`s on the last A node. Results go to BENCH_OUT (default
// e2e/_artifacts/bench): table.txt, result.json (one line), runs.json.
// hack/bench.sh prints them.
func TestBench(t *testing.T) {
	runs := 3
	if v := os.Getenv("BENCH_RUNS"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 {
			t.Fatalf("BENCH_RUNS=%q: want a positive integer", v)
		}
		runs = n
	}
	out := os.Getenv("BENCH_OUT")
	if out == "" {
		out = filepath.Join(framework.ArtifactsRoot(), "bench")
	}
	benchOut = out
	rep := &Report{}
	rep.Notes = append(rep.Notes, machineNote("at start"))
	defer writeReport(t, out, rep)
	framework.BootstrapBinary(t)

	for i := 1; i <= runs; i++ {
		last := i == runs
		if !t.Run(fmt.Sprintf("A%d-bootstrap", i), func(t *testing.T) { runBootstrap(t, rep, i, last) }) {
			rep.Notes = append(rep.Notes, fmt.Sprintf("run A%d failed (see go test output)", i))
		}
		if !t.Run(fmt.Sprintf("B%d-kubeadm", i), func(t *testing.T) { runKubeadm(t, rep, i, last) }) {
			rep.Notes = append(rep.Notes, fmt.Sprintf("run B%d failed (see go test output)", i))
		}
	}
	// One upgrade of each kind (the previous minor to the current one).
	if !t.Run("U-bootstrap-upgrade", func(t *testing.T) { runUpgrade(t, rep) }) {
		rep.Notes = append(rep.Notes, "run U-bootstrap-upgrade failed (see go test output)")
	}
	if !t.Run("U-kubeadm-upgrade", func(t *testing.T) { runKubeadmUpgrade(t, rep) }) {
		rep.Notes = append(rep.Notes, "run U-kubeadm-upgrade failed (see go test output)")
	}
	rep.Notes = append(rep.Notes, machineNote("at end"))
}

// powerCycles is how many power cuts the last node of each kind goes through.
const powerCycles = 3

// benchOut is BENCH_OUT; each run's main log is kept in its logs/ dir.
var benchOut string

// keepLog copies a run's log into BENCH_OUT/logs (the node's work dir,
// where it was written, goes away with the node).
func keepLog(t *testing.T, src, name string) {
	dir := filepath.Join(benchOut, "logs")
	b, err := os.ReadFile(src)
	if err == nil {
		err = os.MkdirAll(dir, 0o755)
	}
	if err == nil {
		err = os.WriteFile(filepath.Join(dir, name), b, 0o644)
	}
	if err != nil {
		t.Logf("keeping log %s: %v", src, err)
	}
}

// keepTrace writes a run's critical-path trace to BENCH_OUT/traces/NAME.txt.
func keepTrace(t *testing.T, name, text string) {
	dir := filepath.Join(benchOut, "traces")
	err := os.MkdirAll(dir, 0o755)
	if err == nil {
		err = os.WriteFile(filepath.Join(dir, name+".txt"), []byte(text), 0o644)
	}
	if err != nil {
		t.Logf("keeping trace %s: %v", name, err)
	}
}

// runBootstrap is run A: render + start on a fresh node, with the hand-over
// poller running from the temporary apiserver's first answer until 12 s
// after start exits. With recover, the node then goes through the recovery
// scenario.
func runBootstrap(t *testing.T, rep *Report, i int, recover bool) {
	node := framework.StartNode(t, framework.NodeOptions{})
	begin := time.Now()
	// kubeadm's criterion on this side too: from render until kube-apiserver,
	// controller-manager and scheduler all answer their health checks.
	hctx, hcancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer hcancel()
	type healthResult struct {
		framework.ControlPlaneHealth
		err error
	}
	health := make(chan healthResult, 1)
	go func() {
		h, err := node.PollControlPlaneHealth(hctx, begin)
		health <- healthResult{h, err}
	}()
	assetDir := node.Render(t)
	render := time.Since(begin)
	begin = time.Now()
	node.StartKubelet(t, assetDir)
	kubelet := time.Since(begin)
	cs := framework.MustClient(t, assets.Path(assetDir, assets.AdminKubeconfig))
	poller := framework.PollHandover(cs)

	startedAt := time.Now()
	elapsed, p, err := node.RunBootstrap(t, "bootstrap-start", 10*time.Minute, "start", "--asset-dir", assetDir, "-v", "1")
	cpu := cpuByProcess(filepath.Join("/run/netns", node.Netns))
	keepLog(t, p.LogPath, fmt.Sprintf("A%d-bootstrap-start.log", i))
	if err != nil {
		poller.Stop()
		t.Fatalf("bootstrap start: %v", err)
	}
	// The pod bootstrap placed is kept by the DaemonSet (no replacement);
	// keep polling a little after start exits in case anything moves.
	time.Sleep(12 * time.Second)
	h := poller.Stop()
	cp := <-health // healthy long before start exits
	if cp.err != nil {
		t.Fatalf("the control plane never answered all three health checks: %v", cp.err)
	}
	if h.Failed > 0 {
		rep.Notes = append(rep.Notes, fmt.Sprintf("A%d: %d of %d hand-over requests failed; first: %s", i, h.Failed, h.Requests, h.FirstErr))
	}
	rss := p.PeakRSSKiB()
	if rss < 20*1024 {
		t.Errorf("peak RSS %d KiB is nsenter's, not bootstrap's: the measurement is broken", rss)
	}
	f, err := os.Open(p.LogPath)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	names, phases, err := ParsePhases(f)
	if err != nil || len(names) == 0 {
		t.Fatalf("no phase durations in %s (%v): is -v 1 still printing them?", p.LogPath, err)
	}
	if len(rep.PhaseOrder) < len(names) {
		rep.PhaseOrder = names
	}
	if ru := p.Rusage(); ru != nil {
		cpu["bootstrap (incl. temp apiserver, boot etcd)"] = time.Duration(ru.Utime.Nano() + ru.Stime.Nano()).Seconds()
	}
	keepTrace(t, fmt.Sprintf("A%d", i), formatTrace(fmt.Sprintf("A%d bootstrap start: %.2fs from the command's start to its exit", i, elapsed.Seconds()),
		collectTrace(startedAt, node.Work, names, phases), cpu))
	run := Run{Kind: KindBootstrap, Index: i, Phases: phases, Metrics: map[string]float64{
		"start_s":                  (render + elapsed).Seconds(),
		"render_s":                 render.Seconds(),
		"start_only_s":             elapsed.Seconds(),
		"tempcp_ready_s":           phases["temp-control-plane"],
		"cp_healthy_s":             cp.Healthy.Seconds(),
		"peak_rss_mb":              float64(rss) / 1024,
		"kubelet_start_s":          kubelet.Seconds(),
		"handover_requests":        float64(h.Requests),
		"handover_failed_requests": float64(h.Failed),
	}}
	rep.Runs = append(rep.Runs, run)
	rep.Handover.Requests += h.Requests
	rep.Handover.Failed += h.Failed
	t.Logf("A%d: render %.2fs + start %.2fs = %.2fs, peak RSS %.1f MiB, hand-over %d/%d failed", i,
		render.Seconds(), elapsed.Seconds(), (render + elapsed).Seconds(), float64(rss)/1024, h.Failed, h.Requests)

	if !recover {
		return
	}
	// Power cuts of the same cluster: the guard brings it back.
	var since time.Time // when the node last came back (every container is newer)
	for c := 1; c <= powerCycles; c++ {
		node.PowerCut(t)
		since = node.PowerOn(t, assetDir)
		res, err := framework.WaitPowerCycle(context.Background(), assets.Path(assetDir, assets.AdminKubeconfig), since, 5*time.Minute)
		if err != nil {
			t.Fatalf("power cycle %d: %v", c, err)
		}
		rep.PowerCycle = append(rep.PowerCycle, res.SelfHostedReadyz.Seconds())
		t.Logf("power cycle %d: %s", c, res)
	}
	for r := 1; r <= recoveries(); r++ {
		since = runRecovery(t, rep, node, cs, assetDir, fmt.Sprintf("A%d-recover%d", i, r), since)
	}
}

// recoveries is how many recoveries the last A node goes through
// (BENCH_RECOVERIES, default 3): one is one sample of a path with a 1 s
// grid in it (the kubelet's API pod source).
func recoveries() int {
	if n, err := strconv.Atoi(os.Getenv("BENCH_RECOVERIES")); err == nil && n > 0 {
		return n
	}
	return 3
}

// runRecovery is one recovery of the running cluster on node: once every
// replica of the controllers runs again since the last recovery (so that
// the backup holds what a real one does), a backup, the permanent loss of
// the control plane (DestroyControlPlane), and `bootstrap recover
// --etcd-backup` timed to its exit. It returns when the recovery began.
func runRecovery(t *testing.T, rep *Report, node *framework.Node, cs kubernetes.Interface, assetDir, name string, since time.Time) time.Time {
	waitReplicasBack(t, cs, since)
	backup := node.BackupEtcd(t, assetDir)
	node.DestroyControlPlane(t, assetDir)
	recoverAt := time.Now()
	d, rp, err := node.RunRecover(t, assetDir, backup, 10*time.Minute, strings.Fields(os.Getenv("BENCH_RECOVER_ARGS"))...)
	rcpu := cpuByProcess(filepath.Join("/run/netns", node.Netns))
	keepLog(t, rp.LogPath, "bootstrap-"+name+".log")
	if err != nil {
		t.Fatalf("bootstrap recover (%s): %v", name, err)
	}
	if rf, err := os.Open(rp.LogPath); err == nil {
		rnames, rphases, _ := ParsePhases(rf)
		rf.Close()
		if ru := rp.Rusage(); ru != nil {
			rcpu["bootstrap (incl. temp apiserver, boot etcd)"] = time.Duration(ru.Utime.Nano() + ru.Stime.Nano()).Seconds()
		}
		keepTrace(t, name, formatTrace(fmt.Sprintf("%s bootstrap recover --etcd-backup: %.2fs from the command's start to its exit", name, d.Seconds()),
			collectTrace(recoverAt, node.Work, rnames, rphases), rcpu))
	}
	rep.Recover = append(rep.Recover, d.Seconds())
	t.Logf("%s: %.2fs", name, d.Seconds())
	if err := os.Remove(backup); err != nil { // backup never replaces a file
		t.Fatal(err)
	}
	return recoverAt
}

// waitReplicasBack waits until every replica of the controller-manager and
// scheduler Deployments is Ready in containers started since since: a
// restored Deployment's status is the backup's, so the pods are counted.
func waitReplicasBack(t *testing.T, cs kubernetes.Interface, since time.Time) {
	for _, dep := range []string{assets.KubeControllerManager, assets.KubeScheduler} {
		framework.WaitT(t, "every replica of "+dep+" running", 3*time.Minute, func(ctx context.Context) (bool, string, error) {
			dp, err := cs.AppsV1().Deployments(assets.KubeSystem).Get(ctx, dep, metav1.GetOptions{})
			if err != nil {
				return false, "", err
			}
			pods, err := cs.CoreV1().Pods(assets.KubeSystem).List(ctx, metav1.ListOptions{LabelSelector: assets.ComponentLabel + "=" + dep})
			if err != nil {
				return false, "", err
			}
			var fresh int32
			for _, p := range pods.Items {
				if p.DeletionTimestamp == nil && freshAndReady(&p, since) {
					fresh++
				}
			}
			want := ptr.Deref(dp.Spec.Replicas, 1)
			return fresh >= want, fmt.Sprintf("%d of %d replicas Ready in containers started since %s", fresh, want, since.Format(time.TimeOnly)), nil
		})
	}
}

// freshAndReady: the pod is Ready and each of its containers runs in a
// process started at or after since (whole seconds, as the API has them).
func freshAndReady(p *corev1.Pod, since time.Time) bool {
	ready := false
	for _, c := range p.Status.Conditions {
		if c.Type == corev1.PodReady && c.Status == corev1.ConditionTrue {
			ready = true
		}
	}
	if !ready || len(p.Status.ContainerStatuses) == 0 {
		return false
	}
	for _, c := range p.Status.ContainerStatuses {
		if c.State.Running == nil || c.State.Running.StartedAt.Time.Before(since.Truncate(time.Second)) {
			return false
		}
	}
	return true
}

// runKubeadm is run B: kubeadm init on a fresh node until it exited 0 and
// the control plane is healthy. /etc/kubernetes is claimed before the node
// starts so that it is removed after the node is torn down.
func runKubeadm(t *testing.T, rep *Report, i int, last bool) {
	framework.ClaimKubeadmHost(t)
	node := framework.StartNode(t, framework.NodeOptions{})
	t.Cleanup(func() {
		keepLog(t, filepath.Join(node.LogDir(), "kubeadm-init.log"), fmt.Sprintf("B%d-kubeadm-init.log", i))
	})
	startedAt := time.Now()
	res := node.RunKubeadmInit(t, 5*time.Minute)
	keepTrace(t, fmt.Sprintf("B%d", i), formatTrace(fmt.Sprintf("B%d kubeadm init: %.2fs to exit and a healthy control plane (exit %.2fs, /readyz %.2fs)", i,
		res.Total.Seconds(), res.Exit.Seconds(), res.APIServerReady.Seconds()),
		collectTrace(startedAt, node.Work, nil, nil), cpuByProcess(filepath.Join("/run/netns", node.Netns))))
	defer func() {
		if !last {
			return
		}
		// The anchor: kubeadm's static pods after the same power cuts.
		env := []string{"KUBELET_KUBECONFIG=" + filepath.Join(framework.KubernetesDir, "kubelet.conf"),
			"KUBELET_CLIENT_CA=" + filepath.Join(node.KubeadmDir(), "pki", "ca.crt")}
		for c := 1; c <= powerCycles; c++ {
			node.PowerCut(t)
			since := node.PowerOnWith(t, env)
			r, err := framework.WaitPowerCycle(context.Background(), filepath.Join(framework.KubernetesDir, "admin.conf"), since, 5*time.Minute)
			if err != nil {
				t.Fatalf("kubeadm power cycle %d: %v", c, err)
			}
			rep.KubeadmPowerCycle = append(rep.KubeadmPowerCycle, r.SelfHostedReadyz.Seconds())
			t.Logf("kubeadm power cycle %d: %s", c, r)
		}
	}()
	rep.Runs = append(rep.Runs, Run{Kind: KindKubeadm, Index: i, Metrics: map[string]float64{
		"kubeadm_init_s":               res.Total.Seconds(),
		"exit_s":                       res.Exit.Seconds(),
		"healthy_s":                    res.Healthy.Seconds(),
		"apiserver_ready_s":            res.APIServerReady.Seconds(),
		"controller_manager_healthy_s": res.ControllerManagerHealthy.Seconds(),
		"scheduler_healthy_s":          res.SchedulerHealthy.Seconds(),
		"kubelet_started_s":            res.KubeletStarted.Seconds(),
		"kubelet_conf_written_s":       res.KubeletConfWritten.Seconds(),
	}})
}

// machineNote says how loaded the machine is and which other harness nodes
// run: figures taken beside another engineer's e2e are noisier.
func machineNote(when string) string {
	load, _ := os.ReadFile("/proc/loadavg")
	var others []string
	ents, _ := os.ReadDir("/run/netns")
	own := os.Getenv("BOOTSTRAP_E2E_NETNS")
	if own == "" {
		own = framework.DefaultNetns
	}
	for _, e := range ents {
		if e.Name() != own {
			others = append(others, e.Name())
		}
	}
	f := strings.Fields(string(load))
	if len(f) > 3 {
		f = f[:3]
	}
	return fmt.Sprintf("%s: load average %s; other network namespaces: %v", when, strings.Join(f, " "), others)
}

func writeReport(t *testing.T, dir string, rep *Report) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Error(err)
		return
	}
	line, err := rep.JSON()
	if err != nil {
		t.Error(err)
		return
	}
	raw, _ := json.MarshalIndent(rep.Runs, "", "  ")
	for name, data := range map[string][]byte{"table.txt": []byte(rep.Table()), "result.json": append(line, '\n'), "runs.json": raw} {
		if err := os.WriteFile(filepath.Join(dir, name), data, 0o644); err != nil {
			t.Error(err)
		}
	}
	t.Logf("results in %s:\n%s%s", dir, rep.Table(), line)
}
