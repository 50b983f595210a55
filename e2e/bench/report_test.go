package bench

import (
	"encoding/json"
	"strings"
	"testing"
)

func TestSummarize(t *testing.T) {
	for _, tc := range []struct {
		name string
		in   []float64
		want Stats
	}{
		{"none", nil, Stats{}},
		{"one", []float64{2}, Stats{2, 2, 2, 1}},
		{"odd", []float64{3, 1, 2}, Stats{2, 1, 3, 3}},
		{"even", []float64{4, 1, 3, 2}, Stats{2.5, 1, 4, 4}},
	} {
		if got := Summarize(tc.in); got != tc.want {
			t.Errorf("%s: Summarize(%v) = %+v, want %+v", tc.name, tc.in, got, tc.want)
		}
	}
}

func TestParsePhases(t *testing.T) {
	out := `[preflight] Checking the node
[start] The self-hosted control plane is up in 28.05s
[start] preflight            0.00s
[start] temp-control-plane   0.51s
[start] hand-over            6.02s
[wait] still waiting for x after 3s: y
[start] wait                 20.13s
`
	names, secs, err := ParsePhases(strings.NewReader(out))
	if err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(names, ","); got != "preflight,temp-control-plane,hand-over,wait" {
		t.Errorf("names = %s", got)
	}
	for name, want := range map[string]float64{"preflight": 0, "temp-control-plane": 0.51, "hand-over": 6.02, "wait": 20.13} {
		if secs[name] != want {
			t.Errorf("%s = %v, want %v", name, secs[name], want)
		}
	}
}

func TestReportRatiosAndJSON(t *testing.T) {
	r := &Report{Runs: []Run{
		{Kind: KindBootstrap, Index: 1, Metrics: map[string]float64{"start_s": 10, "start_only_s": 12, "peak_rss_mb": 150}, Phases: map[string]float64{"wait": 5}},
		{Kind: KindKubeadm, Index: 1, Metrics: map[string]float64{"kubeadm_init_s": 5}},
		{Kind: KindBootstrap, Index: 2, Metrics: map[string]float64{"start_s": 6, "start_only_s": 8, "peak_rss_mb": 160}, Phases: map[string]float64{"wait": 3}},
		{Kind: KindKubeadm, Index: 2, Metrics: map[string]float64{"kubeadm_init_s": 6}},
		{Kind: KindBootstrap, Index: 3, Metrics: map[string]float64{"start_s": 9, "start_only_s": 10}}, // no B3: unpaired
	}, PhaseOrder: []string{"wait"}, Recover: []float64{30}}
	r.Handover.Failed, r.Handover.Requests = 1, 100
	if got := r.Ratios(); len(got) != 2 || got[0] != 1 || got[1] != 2 {
		t.Errorf("Ratios = %v, want [1 2]", got)
	}
	b, err := r.JSON()
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	for k, want := range map[string]any{
		"start_s": 9.0, "kubeadm_init_s": 5.5, "start_vs_kubeadm": 1.5, "recover_s": 30.0,
		"recover_vs_start": 3.0, "handover_failed_requests": 1.0, "bootstrap_peak_rss_mb": 155.0, "runs": 2.0, "tempcp_ready_s": nil,
	} {
		if m[k] != want {
			t.Errorf("%s = %v, want %v", k, m[k], want)
		}
	}
	if p, _ := m["start_phases_s"].(map[string]any); p["wait"] != 4.0 {
		t.Errorf("start_phases_s = %v", m["start_phases_s"])
	}
	if tab := r.Table(); !strings.Contains(tab, "start_vs_kubeadm") || !strings.Contains(tab, "  wait") {
		t.Errorf("table lacks rows:\n%s", tab)
	}
}
