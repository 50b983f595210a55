package status

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/bootstrap-k8s/bootstrap/pkg/apis/bootstrap/v1alpha1"
)

// Options say what to check and how.
type Options struct {
	// AssetDir gives every check its credentials (etcd client certificate,
	// admin kubeconfig, the node's paths). Kubeconfig alone checks only
	// what the API shows (no etcd /health, no static pods on disk).
	AssetDir   string
	Kubeconfig string
	// Config is the asset dir's configuration, when the caller loaded it
	// already (nil: read from the asset dir).
	Config     *v1alpha1.BootstrapConfiguration
	Thresholds Thresholds
	// Now is the clock (tests pin it).
	Now func() time.Time
}

// Check probes every component until each check has passed or failed as
// often in a row as the thresholds ask (at most Healthy+Unhealthy rounds,
// Interval apart), and judges the whole.
func Check(ctx context.Context, o Options) (*Report, error) {
	e, err := newEnv(o)
	if err != nil {
		return nil, err
	}
	j := newJudge(e.th)
	var rows []Row
	for round := 1; ; round++ {
		rows = e.probeAll(ctx)
		j.observe(rows, e.now())
		if j.decided() || round >= e.th.Healthy+e.th.Unhealthy {
			break
		}
		if !sleep(ctx, e.th.Interval) {
			return nil, ctx.Err()
		}
	}
	return e.report(j.rows(rows)), nil
}

// Watch is Check, then one round every Interval until ctx ends; emit gets a
// report after the first decision and after every round in which a judged
// state changed.
func Watch(ctx context.Context, o Options, emit func(*Report)) error {
	e, err := newEnv(o)
	if err != nil {
		return err
	}
	j := newJudge(e.th)
	emitted := false
	for round := 1; ; round++ {
		rows := e.probeAll(ctx)
		changed := j.observe(rows, e.now())
		if ctx.Err() != nil {
			return nil
		}
		if (!emitted && (j.decided() || round >= e.th.Healthy+e.th.Unhealthy)) || (emitted && len(changed) > 0) {
			emit(e.report(j.rows(rows)))
			emitted = true
		}
		if !sleep(ctx, e.th.Interval) {
			return nil
		}
	}
}

func sleep(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-t.C:
		return true
	}
}

// probeAll runs one round of every check at once; each probe is bounded by
// the timeout, so a round lasts at most a few timeouts.
func (e *env) probeAll(ctx context.Context) []Row {
	checks := []func(context.Context) []Row{e.etcdRows, e.apiRows, e.kubeletHealthzRows, e.staticPodRows}
	results := make([][]Row, len(checks))
	var wg sync.WaitGroup
	for i, c := range checks {
		wg.Add(1)
		go func() {
			defer wg.Done()
			results[i] = c(ctx)
		}()
	}
	wg.Wait()
	var rows []Row
	for _, r := range results {
		rows = append(rows, r...)
	}
	rows = merge(rows)
	sort.SliceStable(rows, func(i, j int) bool {
		if a, b := componentOrder(rows[i].Component), componentOrder(rows[j].Component); a != b {
			return a < b
		}
		return rows[i].Node < rows[j].Node
	})
	return rows
}

// Component names, in the order rows are shown.
const (
	CompEtcd              = "etcd"
	CompAPIServer         = "kube-apiserver"
	CompControllerManager = "kube-controller-manager"
	CompScheduler         = "kube-scheduler"
	CompKubeProxy         = "kube-proxy"
	CompCoreDNS           = "coredns"
	CompPodNetwork        = "pod-network"
	CompCSRApprover       = "csr-approver"
	CompGuard             = "guard"
	CompKubelet           = "kubelet"
	CompStaticPods        = "static-pods"
	CompAPI               = "kubernetes-api"
)

var order = []string{CompEtcd, CompStaticPods, CompAPI, CompAPIServer, CompControllerManager, CompScheduler,
	CompKubelet, CompKubeProxy, CompPodNetwork, CompCoreDNS, CompCSRApprover, CompGuard}

func componentOrder(c string) int {
	for i, o := range order {
		if o == c {
			return i
		}
	}
	return len(order)
}

// report judges the whole: Unhealthy when no kube-apiserver serves or etcd
// has lost quorum (the control plane cannot serve), Degraded when any row
// is not Healthy, Healthy otherwise.
func (e *env) report(rows []Row) *Report {
	r := &Report{Overall: Healthy, CheckedAt: e.now().UTC(), Thresholds: e.th, Rows: rows}
	var apiUp, etcdMembers, etcdUp int
	var notHealthy []string
	for _, row := range rows {
		switch row.Component {
		case CompAPIServer:
			if row.State == Healthy {
				apiUp++
			}
		case CompEtcd:
			if row.Node != "" {
				etcdMembers++
				if row.State == Healthy || row.State == Degraded {
					etcdUp++
				}
			}
		}
		if row.State != Healthy {
			name := row.Component
			if row.Node != "" {
				name += " on " + row.Node
			}
			notHealthy = append(notHealthy, fmt.Sprintf("%s %s (%s)", name, row.State, shorten(row.Detail, 100)))
		}
	}
	r.APIReachable = e.apiReachable.Load()
	var fatal []string
	if apiUp == 0 {
		fatal = append(fatal, "no kube-apiserver serves")
	}
	if e.etcdChecked && etcdMembers > 0 && etcdUp < etcdMembers/2+1 {
		fatal = append(fatal, fmt.Sprintf("etcd has no quorum (%d of %d members answer)", etcdUp, etcdMembers))
	}
	switch {
	case len(fatal) > 0:
		r.Overall = Unhealthy
		r.Reason = strings.Join(fatal, "; ")
	case len(notHealthy) > 0:
		r.Overall = Degraded
		r.Reason = "not healthy: " + strings.Join(notHealthy, "; ")
	default:
		r.Reason = fmt.Sprintf("all %d components healthy", len(rows))
	}
	return r
}

func shorten(s string, n int) string {
	s = strings.TrimSpace(s)
	if len(s) > n {
		return s[:n-3] + "..."
	}
	return s
}

// errText is an error as one short line.
func errText(err error) string {
	if err == nil {
		return ""
	}
	return shorten(err.Error(), 200)
}
