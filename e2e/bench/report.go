// Package bench is `make bench`: `bootstrap render` + `bootstrap start`
// against `kubeadm init` on the same real harness node, alternating, a fresh
// node for each run (docs/benchmarks.md). The driver (bench_test.go) carries
// the build tags `e2e && bench`, so `make e2e` (./e2e/... with -tags e2e)
// never runs it; this file holds the pure parts — phase-line parsing and the
// statistics of the report — untagged, so `make test` checks them.
package bench

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"regexp"
	"sort"
	"strconv"
	"strings"
)

// Run is one measured run: Kind "bootstrap" (A) or "kubeadm" (B), its
// 1-based index among runs of its kind, metrics in seconds (or as named:
// *_mb, *_requests), and for A the durations of start's phases.
type Run struct {
	Kind    string             `json:"kind"`
	Index   int                `json:"index"`
	Metrics map[string]float64 `json:"metrics"`
	Phases  map[string]float64 `json:"phases,omitempty"`
}

// Stats summarises one metric over the runs.
type Stats struct {
	Median, Min, Max float64
	N                int
}

// Summarize returns the statistics of vs (zero Stats for none).
func Summarize(vs []float64) Stats {
	if len(vs) == 0 {
		return Stats{}
	}
	s := append([]float64(nil), vs...)
	sort.Float64s(s)
	m := s[len(s)/2]
	if len(s)%2 == 0 {
		m = (s[len(s)/2-1] + s[len(s)/2]) / 2
	}
	return Stats{Median: m, Min: s[0], Max: s[len(s)-1], N: len(s)}
}

// phaseLine is how `bootstrap start -v 1` reports a phase's duration at the
// end: "[start] temp-control-plane   0.50s".
var phaseLine = regexp.MustCompile(`^\[start\] ([a-z][a-z0-9-]*)\s+([0-9]+(?:\.[0-9]+)?)s$`)

// ParsePhases reads the per-phase durations (seconds) from start's output,
// in order. Other lines are ignored.
func ParsePhases(r io.Reader) (names []string, secs map[string]float64, err error) {
	secs = map[string]float64{}
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		m := phaseLine.FindStringSubmatch(strings.TrimSpace(sc.Text()))
		if m == nil {
			continue
		}
		v, err := strconv.ParseFloat(m[2], 64)
		if err != nil {
			return nil, nil, err
		}
		if _, dup := secs[m[1]]; !dup {
			names = append(names, m[1])
		}
		secs[m[1]] = v
	}
	return names, secs, sc.Err()
}

// Report is what `make bench` prints.
type Report struct {
	Runs       []Run
	PhaseOrder []string // phases of start in the order start ran them
	Recover    []float64
	// PowerCycle and KubeadmPowerCycle: /readyz of the self-hosted
	// kube-apiserver (of kubeadm's static pod) after the kubelet's start,
	// one value per power cut of the last node of each kind.
	PowerCycle        []float64
	KubeadmPowerCycle []float64
	Handover          struct{ Requests, Failed int64 }
	// Upgrade holds the upgrade runs' figures (upgrade_*, kubeadm_upgrade_*),
	// copied into the JSON line as they are.
	Upgrade map[string]float64
	Notes   []string // anything a reader must know (failed runs, load)
}

func (r *Report) values(kind, metric string) []float64 {
	var vs []float64
	for _, run := range r.Runs {
		if v, ok := run.Metrics[metric]; ok && run.Kind == kind {
			vs = append(vs, v)
		}
	}
	return vs
}

// Ratios are start_s(A_i) / kubeadm_init_s(B_i) for every i with both runs.
func (r *Report) Ratios() []float64 {
	a, b := map[int]float64{}, map[int]float64{}
	for _, run := range r.Runs {
		switch run.Kind {
		case KindBootstrap:
			if v, ok := run.Metrics["start_s"]; ok {
				a[run.Index] = v
			}
		case KindKubeadm:
			if v, ok := run.Metrics["kubeadm_init_s"]; ok {
				b[run.Index] = v
			}
		}
	}
	var out []float64
	for i, av := range a {
		if bv, ok := b[i]; ok && bv > 0 {
			out = append(out, av/bv)
		}
	}
	sort.Float64s(out)
	return out
}

// Kinds of runs.
const (
	KindBootstrap = "bootstrap"
	KindKubeadm   = "kubeadm"
)

// metricRows are the table's rows: which kind's metric, and its label.
var metricRows = []struct{ kind, metric, label string }{
	{KindBootstrap, "start_s", "A start_s = render + start (wall)"},
	{KindBootstrap, "render_s", "A   bootstrap render"},
	{KindBootstrap, "start_only_s", "A   bootstrap start to exit 0"},
	{KindBootstrap, "cp_healthy_s", "A   apiserver+cm+scheduler healthy (from render)"},
	{KindBootstrap, "tempcp_ready_s", "A tempcp_ready_s (temp-control-plane phase)"},
	{KindBootstrap, "peak_rss_mb", "A bootstrap start peak RSS (MiB)"},
	{KindBootstrap, "kubelet_start_s", "A kubelet start (before start, not timed)"},
	{KindBootstrap, "handover_failed_requests", "A hand-over poller: failed requests"},
	{KindBootstrap, "handover_requests", "A hand-over poller: requests"},
	{KindKubeadm, "kubeadm_init_s", "B kubeadm_init_s = max(exit, healthy)"},
	{KindKubeadm, "exit_s", "B   kubeadm init exit 0"},
	{KindKubeadm, "healthy_s", "B   apiserver+cm+scheduler healthy"},
	{KindKubeadm, "apiserver_ready_s", "B   kube-apiserver /readyz"},
	{KindKubeadm, "controller_manager_healthy_s", "B   controller-manager /healthz"},
	{KindKubeadm, "scheduler_healthy_s", "B   scheduler /healthz"},
	{KindKubeadm, "kubelet_conf_written_s", "B   kubelet.conf written: kubelet started"},
	{KindKubeadm, "kubelet_started_s", "B   harness kubelet healthy"},
}

// Table is the human report: median, min, max and n of every metric, the
// pairwise ratio, recover_s and the median of each phase of start.
func (r *Report) Table() string {
	var b strings.Builder
	row := func(label string, s Stats) {
		fmt.Fprintf(&b, "%-50s %9.3f %9.3f %9.3f %3d\n", label, s.Median, s.Min, s.Max, s.N)
	}
	fmt.Fprintf(&b, "%-50s %9s %9s %9s %3s\n", "metric (seconds unless noted)", "median", "min", "max", "n")
	for _, m := range metricRows {
		if vs := r.values(m.kind, m.metric); len(vs) > 0 {
			row(m.label, Summarize(vs))
		}
	}
	row("start_vs_kubeadm (A_i / B_i)", Summarize(r.Ratios()))
	if len(r.Recover) > 0 {
		row("recover_s (bootstrap recover --etcd-backup)", Summarize(r.Recover))
	}
	if len(r.PowerCycle) > 0 {
		row("power_cycle_api_s (kubelet start -> /readyz)", Summarize(r.PowerCycle))
	}
	if len(r.KubeadmPowerCycle) > 0 {
		row("kubeadm_power_cycle_api_s", Summarize(r.KubeadmPowerCycle))
	}
	if len(r.PhaseOrder) > 0 {
		fmt.Fprintf(&b, "phases of bootstrap start (-v 1):\n")
		for _, p := range r.PhaseOrder {
			var vs []float64
			for _, run := range r.Runs {
				if v, ok := run.Phases[p]; ok && run.Kind == KindBootstrap {
					vs = append(vs, v)
				}
			}
			row("  "+p, Summarize(vs))
		}
	}
	for _, n := range r.Notes {
		fmt.Fprintf(&b, "note: %s\n", n)
	}
	return b.String()
}

// JSON is the one machine-readable line: medians (ratios: median of the
// pairwise ratios), the hand-over failures summed over all A runs, and the
// medians of start's phases as a nested object.
func (r *Report) JSON() ([]byte, error) {
	med := func(vs []float64) *float64 {
		if len(vs) == 0 {
			return nil // null: not measured
		}
		v := round3(Summarize(vs).Median)
		return &v
	}
	phases := map[string]float64{}
	for _, p := range r.PhaseOrder {
		var vs []float64
		for _, run := range r.Runs {
			if v, ok := run.Phases[p]; ok && run.Kind == KindBootstrap {
				vs = append(vs, v)
			}
		}
		phases[p] = *med(vs)
	}
	pairs := len(r.Ratios())
	var powerRatio *float64
	if a, b := med(r.PowerCycle), med(r.KubeadmPowerCycle); a != nil && b != nil && *b > 0 {
		v := round3(*a / *b)
		powerRatio = &v
	}
	// recover_vs_start: a recovery from a snapshot against start on a
	// rendered asset dir (render is not part of either).
	var recoverRatio *float64
	if a, b := med(r.Recover), med(r.values(KindBootstrap, "start_only_s")); a != nil && b != nil && *b > 0 {
		v := round3(*a / *b)
		recoverRatio = &v
	}
	out := map[string]any{
		"recover_vs_start":          recoverRatio,
		"power_cycle_api_s":         med(r.PowerCycle),
		"kubeadm_power_cycle_api_s": med(r.KubeadmPowerCycle),
		"power_cycle_vs_kubeadm":    powerRatio,
		"start_s":                   med(r.values(KindBootstrap, "start_s")),
		"start_only_s":              med(r.values(KindBootstrap, "start_only_s")),
		"render_s":                  med(r.values(KindBootstrap, "render_s")),
		"tempcp_ready_s":            med(r.values(KindBootstrap, "tempcp_ready_s")),
		"bootstrap_peak_rss_mb":     med(r.values(KindBootstrap, "peak_rss_mb")),
		"kubeadm_init_s":            med(r.values(KindKubeadm, "kubeadm_init_s")),
		"kubeadm_exit_s":            med(r.values(KindKubeadm, "exit_s")),
		"start_cp_healthy_s":        med(r.values(KindBootstrap, "cp_healthy_s")),
		"kubeadm_cp_healthy_s":      med(r.values(KindKubeadm, "healthy_s")),
		"start_vs_kubeadm":          med(r.Ratios()),
		"recover_s":                 med(r.Recover),
		"handover_failed_requests":  r.Handover.Failed,
		"handover_requests":         r.Handover.Requests,
		"runs":                      pairs,
		"start_phases_s":            phases,
	}
	for _, k := range []string{"upgrade_s", "upgrade_failed_requests", "upgrade_longest_gap_s", "kubeadm_upgrade_s", "kubeadm_upgrade_failed_requests", "kubeadm_upgrade_longest_gap_s"} {
		if v, ok := r.Upgrade[k]; ok {
			out[k] = round3(v)
		} else {
			out[k] = nil // not measured
		}
	}
	return json.Marshal(out)
}

func round3(v float64) float64 { return math.Round(v*1000) / 1000 }
