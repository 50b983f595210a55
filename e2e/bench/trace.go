package bench

import (
	"bufio"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// The critical-path trace of one run: what the kubelet did with each
// control-plane pod, what kube-apiserver logged on its way to serving, the
// command's own phases, and the CPU time each process used, all on one
// clock (seconds since the command started). The same collector reads a
// bootstrap node and a kubeadm node, so the two timelines line up.

// TraceEvent is one line of a timeline.
type TraceEvent struct {
	At     float64 `json:"at_s"`
	Source string  `json:"source"`
	What   string  `json:"what"`
}

// tracedPods are the control-plane pods followed in the kubelet's log.
var tracedPods = regexp.MustCompile(`pods?=\[?"kube-system/((?:kube-apiserver|etcd|kube-controller-manager|kube-scheduler)-[a-z0-9-]+)"`)

// kubeletMarks are the kubelet log lines that make a pod's path from seen
// to Ready, with what each means.
var kubeletMarks = []struct{ substr, what string }{
	{`"SyncLoop ADD"`, "seen by the kubelet"},
	{`Need to start a new one`, "sandbox needed"},
	{`"ContainerStarted"`, "container started (PLEG; the first is the sandbox)"},
	{`probe="startup" status="started"`, "startup probe passed"},
	{`probe="readiness" status="ready"`, "Ready"},
}

// kubeletSourceMarks are the kubelet's own steps before it can see a pod
// bound to it through the API (first occurrence each). Its apiserver pod
// source starts only once its Node informer has synced, checked every
// second (pkg/kubelet/config/apiserver.go, WaitForAPIServerSyncPeriod), and
// its informers retry a refused apiserver with exponential back-off.
var kubeletSourceMarks = []struct{ substr, what string }{
	{`"Caches populated" type="*v1.Node"`, "Node informer synced (the API pod source waits for it)"},
	{`"Watching apiserver"`, "API pod source started (its next 1 s check after the Node informer synced)"},
	{`"Caches populated" type="*v1.Pod"`, "pods bound to the node listed from the apiserver"},
}

// apiserverMarks are kube-apiserver's own milestones in its container log.
var apiserverMarks = []struct{ substr, what string }{
	{`Version: v`, "process running (first lines)"},
	{`Using reconciler`, "storage set up"},
	{`Serving securely on`, "serving TLS"},
	{`quota admission added evaluator for: leases.coordination.k8s.io`, "first lease write"},
}

// etcdMarks are the etcd member's milestones in its container log (JSON
// lines): a restored member serves only once it has elected itself, after a
// randomised part of its election timeout.
var etcdMarks = []struct{ substr, what string }{
	{`"starting an etcd server"`, "process running"},
	{`fast-forwarding election ticks`, "ticking (a lone member skips all but one election tick)"},
	{`elected leader`, "elected itself leader"},
	{`"ready to serve client requests"`, "serving clients"},
}

// collectTrace builds the timeline of the run on a node whose work dir is
// work, for a command started at t0. phases are the command's own phase
// durations in order (bootstrap start -v 1), or nil.
func collectTrace(t0 time.Time, work string, phaseNames []string, phases map[string]float64) []TraceEvent {
	var ev []TraceEvent
	at := 0.0
	for _, name := range phaseNames {
		ev = append(ev, TraceEvent{At: at, Source: "bootstrap", What: fmt.Sprintf("phase %s begins (%.2fs)", name, phases[name])})
		at += phases[name]
	}
	ev = append(ev, kubeletEvents(t0, filepath.Join(work, "logs", "kubelet.log"))...)
	ev = append(ev, containerEvents(t0, filepath.Join(work, "pod-logs"), "kube-apiserver", apiserverMarks)...)
	ev = append(ev, containerEvents(t0, filepath.Join(work, "pod-logs"), "etcd", etcdMarks)...)
	sort.SliceStable(ev, func(i, j int) bool { return ev[i].At < ev[j].At })
	return ev
}

// kubeletEvents reads the first occurrence of each mark per traced pod
// (ContainerStarted: every one) from the kubelet's klog output.
func kubeletEvents(t0 time.Time, path string) []TraceEvent {
	f, err := os.Open(path)
	if err != nil {
		return []TraceEvent{{Source: "kubelet", What: "no log: " + err.Error()}}
	}
	defer f.Close()
	seen := map[string]bool{}
	var ev []TraceEvent
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		for _, mk := range kubeletSourceMarks {
			if seen[mk.substr] || !strings.Contains(line, mk.substr) {
				continue
			}
			if ts, ok := klogTime(line, t0); ok && !ts.Before(t0) {
				seen[mk.substr] = true
				ev = append(ev, TraceEvent{At: ts.Sub(t0).Seconds(), Source: "kubelet", What: mk.what})
			}
		}
		m := tracedPods.FindStringSubmatch(line)
		if m == nil {
			continue
		}
		ts, ok := klogTime(line, t0)
		if !ok || ts.Before(t0) {
			continue
		}
		for _, mk := range kubeletMarks {
			if !strings.Contains(line, mk.substr) {
				continue
			}
			key := m[1] + mk.substr
			if seen[key] && mk.what != kubeletMarks[2].what {
				continue
			}
			seen[key] = true
			ev = append(ev, TraceEvent{At: ts.Sub(t0).Seconds(), Source: "kubelet", What: m[1] + ": " + mk.what})
		}
	}
	return ev
}

// containerEvents reads the logs of the kube-system container named
// container (CRI format: an RFC 3339 time first) for its milestones.
func containerEvents(t0 time.Time, podLogs, container string, marks []struct{ substr, what string }) []TraceEvent {
	files, _ := filepath.Glob(filepath.Join(podLogs, "kube-system_"+container+"-*", container, "*.log"))
	var ev []TraceEvent
	for _, file := range files {
		pod := strings.SplitN(filepath.Base(filepath.Dir(filepath.Dir(file))), "_", 3)[1]
		data, err := os.ReadFile(file)
		if err != nil {
			continue
		}
		done := map[string]bool{}
		for _, line := range strings.Split(string(data), "\n") {
			ts, err := time.Parse(time.RFC3339Nano, strings.SplitN(line, " ", 2)[0])
			if err != nil || ts.Before(t0) {
				continue
			}
			for _, mk := range marks {
				if !done[mk.substr] && strings.Contains(line, mk.substr) {
					done[mk.substr] = true
					ev = append(ev, TraceEvent{At: ts.Sub(t0).Seconds(), Source: container, What: pod + ": " + mk.what})
				}
			}
		}
	}
	return ev
}

// klogTime parses klog's "I1202 04:08:00.559663" header (no year: t0's).
func klogTime(line string, t0 time.Time) (time.Time, bool) {
	if len(line) < 21 || !strings.ContainsRune("IWEF", rune(line[0])) {
		return time.Time{}, false
	}
	ts, err := time.ParseInLocation("0102 15:04:05.000000", line[1:21], time.UTC)
	if err != nil {
		return time.Time{}, false
	}
	return ts.AddDate(t0.UTC().Year(), 0, 0), true
}

// cpuByProcess sums user+system CPU seconds of the processes in the network
// namespace netnsPath by command name (kube-apiserver, etcd, kubelet, ...):
// what each used from its start until now.
func cpuByProcess(netnsPath string) map[string]float64 {
	out := map[string]float64{}
	// A named netns is a bind mount of the namespace's nsfs inode, which
	// /proc/PID/ns/net names as net:[INODE].
	var st syscall.Stat_t
	if err := syscall.Stat(netnsPath, &st); err != nil {
		return out
	}
	want := fmt.Sprintf("net:[%d]", st.Ino)
	hz := 100.0 // USER_HZ on Linux
	ents, _ := os.ReadDir("/proc")
	for _, e := range ents {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		if ns, err := os.Readlink(fmt.Sprintf("/proc/%d/ns/net", pid)); err != nil || ns != want {
			continue
		}
		stat, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
		if err != nil {
			continue
		}
		s := string(stat)
		open, closeP := strings.IndexByte(s, '('), strings.LastIndexByte(s, ')')
		if open < 0 || closeP < open {
			continue
		}
		comm, rest := s[open+1:closeP], strings.Fields(s[closeP+1:])
		if len(rest) < 13 {
			continue
		}
		utime, _ := strconv.ParseFloat(rest[11], 64)
		stime, _ := strconv.ParseFloat(rest[12], 64)
		if strings.HasPrefix(comm, "containerd-shim") {
			comm = "containerd-shim"
		}
		out[comm] += (utime + stime) / hz
	}
	return out
}

// formatTrace is a timeline as text, for the run's trace file.
func formatTrace(title string, ev []TraceEvent, cpu map[string]float64) string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s\n", title)
	for _, e := range ev {
		fmt.Fprintf(&b, "  %7.2fs  %-15s %s\n", e.At, e.Source, e.What)
	}
	var names []string
	for n := range cpu {
		names = append(names, n)
	}
	sort.Slice(names, func(i, j int) bool { return cpu[names[i]] > cpu[names[j]] })
	fmt.Fprintf(&b, "  CPU seconds by process (user+system, since each process started):\n")
	for _, n := range names {
		if cpu[n] >= 0.01 {
			fmt.Fprintf(&b, "    %-26s %6.2f\n", n, cpu[n])
		}
	}
	return b.String()
}
