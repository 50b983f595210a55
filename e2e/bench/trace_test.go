package bench

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestCollectTrace reads lines as the real kubelet and kube-apiserver wrote
// them (copied from a run) onto one clock with the command's phases.
func TestCollectTrace(t *testing.T) {
	work := t.TempDir()
	t0 := time.Date(2026, 12, 2, 4, 7, 58, 0, time.UTC)
	kubelet := `I1202 04:07:55.529664   26153 certificate_manager.go:431] "Certificate rotation is enabled" logger="kubernetes.io/kube-apiserver-client-kubelet"
I1202 04:08:00.559663   26153 kubelet.go:2760] "SyncLoop ADD" source="api" pods=["kube-system/kube-apiserver-4g2z5"]
I1202 04:08:00.561944   26153 util.go:35] "No sandbox for pod can be found. Need to start a new one" pod="kube-system/kube-apiserver-4g2z5"
I1202 04:08:02.383971   26153 kubelet.go:2788] "SyncLoop (PLEG): event for pod" pod="kube-system/kube-apiserver-4g2z5" event={"ID":"2e05","Type":"ContainerStarted","Data":"0ad6"}
I1202 04:08:03.124346   26153 kubelet.go:2788] "SyncLoop (PLEG): event for pod" pod="kube-system/kube-apiserver-4g2z5" event={"ID":"2e05","Type":"ContainerStarted","Data":"d1d6"}
I1202 04:08:10.875175   26153 kubelet.go:2877] "SyncLoop (probe)" probe="readiness" status="ready" pod="kube-system/kube-apiserver-4g2z5"
I1202 04:08:11.875175   26153 kubelet.go:2877] "SyncLoop (probe)" probe="readiness" status="ready" pod="kube-system/kube-apiserver-4g2z5"
`
	apiserver := `2026-12-02T04:08:03.593190485Z stderr F I1202 04:08:03.592779       1 server.go:151] Version: v1.37.2
2026-12-02T04:08:08.562039117Z stderr F I1202 04:08:08.561767       1 secure_serving.go:216] Serving securely on [::]:6443
`
	etcd := `2026-12-02T04:07:58.052361666Z stderr F {"level":"info","ts":"2026-12-02T04:07:58.052158Z","caller":"embed/etcd.go:321","msg":"starting an etcd server","etcd-version":"3.7.3","member-initialized":true,"name":"e2e-node","data-dir":"/var/lib/etcd"}
2026-12-02T04:07:58.111515603Z stderr F {"level":"info","ts":"2026-12-02T04:07:58.111419Z","caller":"etcdserver/server.go:470","msg":"started as single-node; fast-forwarding election ticks","local-member-id":"1e1a0966ae974b79","forward-ticks":9,"forward-duration":"900ms","election-ticks":10,"election-timeout":"1s"}
2026-12-02T04:07:58.800114044Z stderr F {"level":"info","ts":"2026-12-02T04:07:58.800049Z","logger":"raft","caller":"v3@v3.7.0/node.go:370","msg":"raft.node: 1e1a0966ae974b79 elected leader 1e1a0966ae974b79 at term 5"}
2026-12-02T04:07:58.800895158Z stderr F {"level":"info","ts":"2026-12-02T04:07:58.800806Z","caller":"embed/serve.go:139","msg":"ready to serve client requests"}
2026-12-02T04:07:58.801962818Z stderr F {"level":"info","ts":"2026-12-02T04:07:58.801891Z","caller":"embed/serve.go:139","msg":"ready to serve client requests"}
`
	write(t, filepath.Join(work, "pod-logs", "kube-system_etcd-e2e-node_f2fc", "etcd", "0.log"), etcd)
	write(t, filepath.Join(work, "logs", "kubelet.log"), kubelet)
	write(t, filepath.Join(work, "pod-logs", "kube-system_kube-apiserver-4g2z5_2e05", "kube-apiserver", "0.log"), apiserver)
	ev := collectTrace(t0, work, []string{"etcd", "hand-over"}, map[string]float64{"etcd": 0.5, "hand-over": 6})
	var got []string
	for _, e := range ev {
		got = append(got, strings.TrimSpace(formatTrace("", []TraceEvent{e}, nil)[1:]))
	}
	want := []string{
		"0.00s  bootstrap       phase etcd begins (0.50s)",
		"0.05s  etcd            etcd-e2e-node: process running",
		"0.11s  etcd            etcd-e2e-node: ticking (a lone member skips all but one election tick)",
		"0.50s  bootstrap       phase hand-over begins (6.00s)",
		"0.80s  etcd            etcd-e2e-node: elected itself leader",
		"0.80s  etcd            etcd-e2e-node: serving clients",
		"2.56s  kubelet         kube-apiserver-4g2z5: seen by the kubelet",
		"2.56s  kubelet         kube-apiserver-4g2z5: sandbox needed",
		"4.38s  kubelet         kube-apiserver-4g2z5: container started (PLEG; the first is the sandbox)",
		"5.12s  kubelet         kube-apiserver-4g2z5: container started (PLEG; the first is the sandbox)",
		"5.59s  kube-apiserver  kube-apiserver-4g2z5: process running (first lines)",
		"10.56s  kube-apiserver  kube-apiserver-4g2z5: serving TLS",
		"12.88s  kubelet         kube-apiserver-4g2z5: Ready",
	}
	for i := range want {
		if i >= len(got) || !strings.HasPrefix(got[i], want[i]) {
			t.Fatalf("trace:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
		}
	}
	if len(got) != len(want) {
		t.Errorf("trace has %d events, want %d (the second Ready, etcd's second listener and the line before t0 are not events):\n%s", len(got), len(want), strings.Join(got, "\n"))
	}
}

func write(t *testing.T, path, data string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(data), 0o644); err != nil {
		t.Fatal(err)
	}
}

// TestCPUByProcessSeesItsOwnNetns: this test's own process is in the
// netns /proc/self/ns/net names, so it is counted.
func TestCPUByProcessSeesItsOwnNetns(t *testing.T) {
	cpu := cpuByProcess("/proc/self/ns/net")
	if len(cpu) == 0 {
		t.Fatalf("no process counted in this test's own network namespace")
	}
	if cpuByProcess("/nonexistent") == nil {
		t.Errorf("a missing netns gives a nil map: callers add to it")
	}
}
