package status

import (
	"context"
	"net/http"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/bootstrap-k8s/bootstrap/pkg/assets"
	"github.com/bootstrap-k8s/bootstrap/pkg/kubeprobe"
)

// KubeletHealthzURL is the kubelet's healthz on this node (its default
// healthzBindAddress and healthzPort).
var KubeletHealthzURL = "http://127.0.0.1:10248/healthz"

// kubeletHealthzRows: this node's kubelet answers its healthz, which works
// without the API. Only with an asset dir: it names this node.
func (e *env) kubeletHealthzRows(ctx context.Context) []Row {
	if e.cfg == nil {
		return nil
	}
	ctx, cancel := context.WithTimeout(ctx, e.th.Timeout)
	defer cancel()
	row := Row{Component: CompKubelet, Node: e.cfg.Node.Name, Check: "GET " + KubeletHealthzURL, State: Healthy, Detail: "healthz ok"}
	if err := kubeprobe.HTTPGetOK(ctx, &http.Client{Timeout: e.th.Timeout}, KubeletHealthzURL); err != nil {
		row.State, row.Detail = Unhealthy, "healthz: "+errText(err)
	}
	return []Row{row}
}

// staticPodRows: the static pod manifests on this node's disk — etcd's and
// the guard's — which the kubelet runs whatever the API says.
func (e *env) staticPodRows(context.Context) []Row {
	if e.cfg == nil {
		return nil
	}
	dir := e.cfg.Node.StaticPodPath
	row := Row{Component: CompStaticPods, Node: e.cfg.Node.Name, Check: "manifests in " + dir, State: Healthy}
	entries, err := os.ReadDir(dir)
	if err != nil {
		row.State, row.Detail = Unknown, errText(err)+" (run status on the node, as root, to see them)"
		return []Row{row}
	}
	var names []string
	for _, en := range entries {
		if !en.IsDir() && !strings.HasPrefix(en.Name(), ".") {
			names = append(names, en.Name())
		}
	}
	sort.Strings(names)
	row.Detail = strings.Join(names, ", ")
	if row.Detail == "" {
		row.Detail = "none"
	}
	has := func(f string) bool {
		_, err := os.Stat(filepath.Join(dir, f))
		return err == nil
	}
	rows := []Row{row}
	if e.cfg.Etcd.Local != nil && !has("etcd.yaml") {
		rows[0].State = Unhealthy
		rows[0].Detail += "; etcd.yaml is missing: the kubelet does not run etcd (bootstrap start installs it)"
	}
	if has(assets.GuardStaticPodFile) {
		rows = append(rows, Row{Component: CompGuard, Node: e.cfg.Node.Name, Check: filepath.Join(dir, assets.GuardStaticPodFile),
			State: Healthy, Detail: "installed"})
	}
	return rows
}

// merge folds rows with the same key (the same component on the same node,
// seen by two checks) into one: the worse state, both checks and details.
func merge(rows []Row) []Row {
	idx := map[string]int{}
	var out []Row
	for _, r := range rows {
		i, ok := idx[r.Key()]
		if !ok {
			idx[r.Key()] = len(out)
			out = append(out, r)
			continue
		}
		m := &out[i]
		m.State = worse(m.State, r.State)
		m.Check += "; " + r.Check
		m.Detail += "; " + r.Detail
		if m.Version == "" {
			m.Version = r.Version
		}
		if m.Desired == nil {
			m.Desired, m.Ready = r.Desired, r.Ready
		}
		if m.CertNotAfter == nil {
			m.CertNotAfter = r.CertNotAfter
		}
		if m.LastTransition == nil {
			m.LastTransition, m.Reason = r.LastTransition, r.Reason
		}
	}
	return out
}
