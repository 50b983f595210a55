package status

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"sync"

	"go.etcd.io/etcd/api/v3/etcdserverpb"
	clientv3 "go.etcd.io/etcd/client/v3"

	"github.com/bootstrap-k8s/bootstrap/pkg/endpoints"
	"github.com/bootstrap-k8s/bootstrap/pkg/etcdutil"
	"github.com/bootstrap-k8s/bootstrap/pkg/tlsprobe"
)

// etcdRows: one row per member — its client /health over TLS with the asset
// dir's etcd client certificate, its status (leader, DB size, version), its
// alarms and the certificate it serves. Without the asset dir's etcd
// credentials nothing is probed: the etcd mirror pods appear with the API's
// rows instead.
func (e *env) etcdRows(ctx context.Context) []Row {
	if e.etcdTLS == nil {
		return nil
	}
	local := endpoints.EtcdClient(e.cfg)
	ec, err := etcdutil.Config(e.assetDir, local)
	if err != nil {
		return []Row{{Component: CompEtcd, Node: e.cfg.Node.Name, State: Unhealthy, Check: "etcd client configuration", Detail: errText(err)}}
	}
	ec.DialTimeout = e.th.Timeout
	ec.Context = ctx
	check := "member list, status, alarms and GET /health at " + local
	cli, err := clientv3.New(ec)
	if err != nil {
		return []Row{e.etcdDown(ctx, local, check, err)}
	}
	defer cli.Close()
	cctx, cancel := context.WithTimeout(ctx, e.th.Timeout)
	defer cancel()
	members, err := cli.MemberList(cctx)
	if err != nil {
		return []Row{e.etcdDown(ctx, local, check, err)}
	}
	alarms := map[uint64][]string{}
	if ar, err := cli.AlarmList(cctx); err == nil {
		for _, a := range ar.Alarms {
			alarms[a.MemberID] = append(alarms[a.MemberID], a.Alarm.String())
		}
	}
	rows := make([]Row, len(members.Members))
	var wg sync.WaitGroup
	for i, m := range members.Members {
		wg.Add(1)
		go func() {
			defer wg.Done()
			rows[i] = e.etcdMember(ctx, cli, m, alarms[m.ID], len(members.Members))
		}()
	}
	wg.Wait()
	return rows
}

// etcdDown is the row of a local member that does not answer, with the
// reason in words (nothing listens, another CA, ...).
func (e *env) etcdDown(ctx context.Context, ep, check string, err error) Row {
	detail := errText(err)
	if perr := etcdutil.Probe(ctx, e.etcdTLS, ep); perr != nil {
		detail = perr.Error()
	}
	return Row{Component: CompEtcd, Node: e.cfg.Node.Name, State: Unhealthy, Check: check, Detail: detail}
}

func (e *env) etcdMember(ctx context.Context, cli *clientv3.Client, m *etcdserverpb.Member, alarms []string, n int) Row {
	name := m.Name
	if name == "" {
		name = fmt.Sprintf("%x (not started)", m.ID)
	}
	row := Row{Component: CompEtcd, Node: name, State: Healthy, Desired: count(int32(n))}
	if len(m.ClientURLs) == 0 {
		row.State, row.Check, row.Detail = Unhealthy, "member list", "the member has no client URL: it never started"
		return row
	}
	ep := m.ClientURLs[0]
	row.Check = "GET " + ep + "/health, status, alarms"
	sctx, cancel := context.WithTimeout(ctx, e.th.Timeout)
	defer cancel()
	st, err := cli.Status(sctx, ep)
	if err != nil {
		row.State, row.Detail = Unhealthy, "status: "+errText(err)
		return row
	}
	row.Version = st.Version
	role := "follower"
	switch {
	case m.IsLearner:
		role = "learner"
	case st.Leader == m.ID:
		role = "leader"
	case st.Leader == 0:
		role = "no leader"
		row.State = Unhealthy
	}
	var parts []string
	parts = append(parts, role, fmt.Sprintf("db %s (%s in use)", bytesText(st.DbSize), bytesText(st.DbSizeInUse)),
		fmt.Sprintf("raft index %d", st.RaftIndex))
	if health, err := e.etcdHealth(ctx, ep); err != nil {
		row.State = Unhealthy
		parts = append(parts, "/health: "+errText(err))
	} else if !health {
		row.State = Unhealthy
		parts = append(parts, "/health: false")
	} else {
		parts = append(parts, "/health: true")
	}
	if len(alarms) > 0 {
		row.State = worse(row.State, Degraded)
		parts = append(parts, "alarms: "+strings.Join(alarms, ","))
	}
	if len(st.Errors) > 0 {
		row.State = worse(row.State, Degraded)
		parts = append(parts, "errors: "+strings.Join(st.Errors, "; "))
	}
	row.Detail = strings.Join(parts, ", ")
	if u, err := url.Parse(ep); err == nil {
		if crt, err := tlsprobe.Served(ctx, u.Host, e.etcdTLS, e.th.Timeout); err == nil {
			e.certState(&row, crt.NotAfter)
		}
	}
	return row
}

// etcdHealth is GET /health on the member's client URL: etcd answers
// {"health":"true"} once it has a leader and its backend answers.
func (e *env) etcdHealth(ctx context.Context, ep string) (bool, error) {
	ctx, cancel := context.WithTimeout(ctx, e.th.Timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, strings.TrimSuffix(ep, "/")+"/health", nil)
	if err != nil {
		return false, err
	}
	resp, err := e.httpClient(e.etcdTLS).Do(req)
	if err != nil {
		return false, err
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
	var h struct {
		Health string `json:"health"`
		Reason string `json:"reason"`
	}
	if err := json.Unmarshal(body, &h); err != nil {
		return false, fmt.Errorf("HTTP %d: %s", resp.StatusCode, shorten(string(body), 80))
	}
	if h.Health != "true" && h.Reason != "" {
		return false, fmt.Errorf("false: %s", h.Reason)
	}
	return h.Health == "true", nil
}

func bytesText(n int64) string {
	switch {
	case n >= 1<<30:
		return fmt.Sprintf("%.1f GiB", float64(n)/(1<<30))
	case n >= 1<<20:
		return fmt.Sprintf("%.1f MiB", float64(n)/(1<<20))
	}
	return fmt.Sprintf("%d KiB", n>>10)
}
