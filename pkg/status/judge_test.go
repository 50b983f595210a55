package status

import (
	"testing"
	"time"
)

// TestJudgeThresholds: a check changes state only after as many probes in
// a row as its threshold says.
func TestJudgeThresholds(t *testing.T) {
	th := Thresholds{Healthy: 2, Unhealthy: 3}
	tests := []struct {
		name   string
		probes []State
		want   State // "" undecided
	}{
		{"two passing", []State{Healthy, Healthy}, Healthy},
		{"one passing is not enough", []State{Healthy}, ""},
		{"three failing", []State{Unhealthy, Unhealthy, Unhealthy}, Unhealthy},
		{"two failing are not enough", []State{Unhealthy, Unhealthy}, ""},
		{"healthy holds through two failures", []State{Healthy, Healthy, Unhealthy, Unhealthy}, Healthy},
		{"healthy falls on the third", []State{Healthy, Healthy, Degraded, Degraded, Degraded}, Degraded},
		{"flapping never decides", []State{Healthy, Unhealthy, Healthy, Unhealthy}, ""},
		{"recovers after two passing", []State{Unhealthy, Unhealthy, Unhealthy, Healthy, Healthy}, Healthy},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			j := newJudge(th)
			for i, s := range tt.probes {
				j.observe([]Row{{Component: CompEtcd, Node: "n", State: s, Detail: "d"}}, time.Unix(int64(i), 0))
			}
			got := j.track["etcd/n"].state
			if got != tt.want {
				t.Errorf("judged %q, want %q", got, tt.want)
			}
			rows := j.rows([]Row{{Component: CompEtcd, Node: "n"}})
			if tt.want != "" && rows[0].State != tt.want {
				t.Errorf("row state %s, want %s", rows[0].State, tt.want)
			}
		})
	}
}

// TestReportOverall: the whole is Unhealthy without a serving
// kube-apiserver or without etcd quorum, Degraded when anything else is
// not healthy.
func TestReportOverall(t *testing.T) {
	e := &env{now: time.Now, etcdChecked: true}
	api := Row{Component: CompAPIServer, Node: "a", State: Healthy}
	etcd := func(n string, s State) Row { return Row{Component: CompEtcd, Node: n, State: s} }
	tests := []struct {
		name string
		rows []Row
		want State
	}{
		{"all healthy", []Row{api, etcd("a", Healthy)}, Healthy},
		{"one of three members down", []Row{api, etcd("a", Healthy), etcd("b", Healthy), etcd("c", Unhealthy)}, Degraded},
		{"two of three members down", []Row{api, etcd("a", Healthy), etcd("b", Unhealthy), etcd("c", Unhealthy)}, Unhealthy},
		{"no apiserver", []Row{{Component: CompAPIServer, Node: "a", State: Unhealthy}, etcd("a", Healthy)}, Unhealthy},
		{"scheduler missing", []Row{api, etcd("a", Healthy), {Component: CompScheduler, State: Unhealthy, Detail: "not found"}}, Degraded},
	}
	for _, tt := range tests {
		if got := e.report(tt.rows); got.Overall != tt.want {
			t.Errorf("%s: %s (%s), want %s", tt.name, got.Overall, got.Reason, tt.want)
		}
	}
}
