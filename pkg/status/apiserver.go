package status

import (
	"context"
	"fmt"
	"net"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/rest"

	"github.com/bootstrap-k8s/bootstrap/pkg/assets"
	"github.com/bootstrap-k8s/bootstrap/pkg/kubeprobe"
	"github.com/bootstrap-k8s/bootstrap/pkg/poddiag"
	"github.com/bootstrap-k8s/bootstrap/pkg/tlsprobe"
)

// apiRows checks everything the Kubernetes API knows about. When the shared
// endpoint does not answer, this node's kube-apiserver is still probed on
// its own address and the rest is Unknown.
func (e *env) apiRows(ctx context.Context) []Row {
	lctx, cancel := context.WithTimeout(ctx, e.th.Timeout)
	defer cancel()
	endpointRow := Row{Component: CompAPI, State: Healthy, Check: "GET /readyz and list nodes at " + e.rest.Host}
	err := e.cs.Discovery().RESTClient().Get().AbsPath("/readyz").Do(lctx).Error()
	var nodes *corev1.NodeList
	if err == nil {
		nodes, err = e.cs.CoreV1().Nodes().List(lctx, metav1.ListOptions{})
	}
	if err != nil {
		e.apiReachable.Store(false)
		endpointRow.State, endpointRow.Detail = Unhealthy, errText(err)
		rows := []Row{endpointRow}
		if e.cfg != nil {
			rows = append(rows, e.apiServerInstance(ctx, e.cfg.Node.Name, e.cfg.APIServer.AdvertiseAddress, nil))
		}
		for _, c := range []string{CompControllerManager, CompScheduler, CompKubeProxy, CompPodNetwork, CompCoreDNS} {
			rows = append(rows, Row{Component: c, State: Unknown, Check: "the Kubernetes API", Detail: "not checked: the Kubernetes API does not answer"})
		}
		return rows
	}
	e.apiReachable.Store(true)
	endpointRow.Detail = "ready"
	rows := []Row{endpointRow}
	var mu sync.Mutex
	var wg sync.WaitGroup
	add := func(f func() []Row) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			r := f()
			mu.Lock()
			rows = append(rows, r...)
			mu.Unlock()
		}()
	}
	add(func() []Row { return e.apiServerRows(ctx, nodes.Items) })
	add(func() []Row { return []Row{e.controllerRow(ctx, CompControllerManager, assets.KubeControllerManager)} })
	add(func() []Row { return []Row{e.controllerRow(ctx, CompScheduler, assets.KubeScheduler)} })
	add(func() []Row {
		return []Row{e.deploymentRow(ctx, CompCoreDNS, assets.KubeSystem, assets.CoreDNS)}
	})
	add(func() []Row {
		return []Row{e.deploymentRow(ctx, CompCSRApprover, assets.KubeSystem, assets.CSRApprover)}
	})
	add(func() []Row {
		return e.daemonSetPerNode(ctx, CompKubeProxy, assets.KubeSystem, assets.KubeProxy, nodes.Items)
	})
	add(func() []Row { return []Row{e.podNetworkRow(ctx, nodes.Items)} })
	add(func() []Row { return e.kubeletRows(ctx, nodes.Items) })
	add(func() []Row { return e.mirrorPodRows(ctx, nodes.Items) })
	wg.Wait()
	return rows
}

// apiServerRows: one row per control-plane node (or node running a
// kube-apiserver pod), each instance probed on its node's address, not
// through the shared endpoint, which would hide a dead instance behind a
// live one.
func (e *env) apiServerRows(ctx context.Context, nodes []corev1.Node) []Row {
	lctx, cancel := context.WithTimeout(ctx, e.th.Timeout)
	defer cancel()
	pods, err := e.cs.CoreV1().Pods(assets.KubeSystem).List(lctx, metav1.ListOptions{LabelSelector: assets.ComponentLabel + "=" + assets.KubeAPIServer})
	if err != nil {
		return []Row{{Component: CompAPIServer, State: Unknown, Check: "list kube-apiserver pods", Detail: errText(err)}}
	}
	byNode := map[string][]*corev1.Pod{}
	for i := range pods.Items {
		p := &pods.Items[i]
		if p.DeletionTimestamp == nil {
			byNode[p.Spec.NodeName] = append(byNode[p.Spec.NodeName], p)
		}
	}
	var rows []Row
	var mu sync.Mutex
	var wg sync.WaitGroup
	for i := range nodes {
		n := &nodes[i]
		_, cp := n.Labels[assets.ControlPlaneNodeLabel]
		if !cp && len(byNode[n.Name]) == 0 {
			continue
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			r := e.apiServerInstance(ctx, n.Name, nodeAddress(n), byNode[n.Name])
			mu.Lock()
			rows = append(rows, r)
			mu.Unlock()
		}()
	}
	wg.Wait()
	if len(rows) == 0 {
		rows = append(rows, Row{Component: CompAPIServer, State: Unhealthy, Check: "kube-apiserver pods and control-plane nodes",
			Detail: "no node is labelled " + assets.ControlPlaneNodeLabel + " and no kube-apiserver pod exists"})
	}
	return rows
}

// apiServerInstance probes one kube-apiserver on addr: /readyz, /version
// and its serving certificate; pods (nil: not known) add readiness.
func (e *env) apiServerInstance(ctx context.Context, node, addr string, pods []*corev1.Pod) Row {
	hostport := net.JoinHostPort(addr, e.apiPort())
	row := Row{Component: CompAPIServer, Node: node, Check: "GET https://" + hostport + "/readyz", Desired: count(1)}
	if addr == "" {
		row.State, row.Detail = Unhealthy, "the node reports no InternalIP address"
		return row
	}
	rc := rest.CopyConfig(e.rest)
	rc.Host = "https://" + hostport
	c, err := kubeprobe.Fresh(rc)
	if err != nil {
		row.State, row.Detail = Unhealthy, errText(err)
		return row
	}
	defer c.Close()
	rctx, cancel := context.WithTimeout(ctx, e.th.Timeout)
	defer cancel()
	if err := c.Ready(rctx); err != nil {
		row.State, row.Detail = Unhealthy, "/readyz: "+errText(err)
	} else {
		row.State, row.Detail = Healthy, "/readyz ok"
		if v, err := c.Version(); err == nil {
			row.Version = v.GitVersion
		}
	}
	if crt, err := tlsprobe.Served(ctx, hostport, nil, e.th.Timeout); err == nil {
		e.certState(&row, crt.NotAfter)
	}
	if pods != nil {
		ready := int32(0)
		for _, p := range pods {
			if poddiag.Ready(p) {
				ready++
			}
			setTransition(&row, p)
		}
		row.Ready = count(ready)
		switch {
		case len(pods) == 0 && row.State == Healthy:
			row.State, row.Detail = Degraded, row.Detail+"; no kube-apiserver pod on this node (who serves?)"
		case ready == 0 && row.State == Healthy:
			row.State, row.Detail = Degraded, row.Detail+"; its pod is not Ready: "+poddiag.Summary(pods[0])
		}
		if len(pods) > 1 {
			row.Detail += fmt.Sprintf("; %d pods (a roll-out surges a new one beside the old)", len(pods))
		}
	}
	return row
}

func (e *env) apiPort() string {
	if e.cfg != nil {
		return strconv.Itoa(int(e.cfg.APIServer.BindPort))
	}
	if u, err := url.Parse(e.rest.Host); err == nil && u.Port() != "" {
		return u.Port()
	}
	return "6443"
}

func nodeAddress(n *corev1.Node) string {
	for _, a := range n.Status.Addresses {
		if a.Type == corev1.NodeInternalIP {
			return a.Address
		}
	}
	return ""
}

// setTransition takes the pod's Ready condition as the row's last
// transition, if it is newer than what the row has.
func setTransition(row *Row, p *corev1.Pod) {
	for _, c := range p.Status.Conditions {
		if c.Type != corev1.PodReady || c.LastTransitionTime.IsZero() {
			continue
		}
		t := c.LastTransitionTime.Time
		if row.LastTransition == nil || t.After(*row.LastTransition) {
			row.LastTransition = &t
			row.Reason = "pod " + p.Name + " Ready=" + string(c.Status)
			if c.Reason != "" {
				row.Reason += " (" + c.Reason + ")"
			}
		}
	}
}

// certState records a served certificate's expiry and judges it.
func (e *env) certState(row *Row, notAfter time.Time) {
	na := notAfter.UTC()
	row.CertNotAfter = &na
	left := notAfter.Sub(e.now())
	switch {
	case left <= 0:
		row.State = Unhealthy
		row.Detail += "; its serving certificate EXPIRED " + na.Format(time.RFC3339)
	case left < e.th.CertWarning:
		row.State = worse(row.State, Degraded)
		row.Detail += fmt.Sprintf("; its serving certificate expires in %s: run bootstrap certs renew", strings.TrimSuffix(left.Round(time.Hour).String(), "0m0s"))
	}
}
