package status

import (
	"context"
	"fmt"
	"net"
	"strconv"
	"strings"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/bootstrap-k8s/bootstrap/pkg/apis/bootstrap/v1alpha1"
	"github.com/bootstrap-k8s/bootstrap/pkg/assets"
	"github.com/bootstrap-k8s/bootstrap/pkg/poddiag"
	"github.com/bootstrap-k8s/bootstrap/pkg/tlsprobe"
)

// deploymentRow: desired vs ready replicas of a Deployment, with its
// Available condition as the last transition.
func (e *env) deploymentRow(ctx context.Context, comp, ns, name string) Row {
	ctx, cancel := context.WithTimeout(ctx, e.th.Timeout)
	defer cancel()
	row := Row{Component: comp, Check: "Deployment " + ns + "/" + name}
	d, err := e.cs.AppsV1().Deployments(ns).Get(ctx, name, metav1.GetOptions{})
	if apierrors.IsNotFound(err) {
		if static, ok := e.staticPodsRow(ctx, comp, ns, name); ok {
			return static
		}
		row.State, row.Detail = Unhealthy, "Deployment "+ns+"/"+name+" not found: re-create it (kubectl apply -f the asset dir's manifests, or bootstrap start)"
		return row
	}
	if err != nil {
		row.State, row.Detail = Unknown, errText(err)
		return row
	}
	desired := int32(1)
	if d.Spec.Replicas != nil {
		desired = *d.Spec.Replicas
	}
	row.Desired, row.Ready = count(desired), count(d.Status.ReadyReplicas)
	row.Version = imageTag(d.Spec.Template.Spec.Containers)
	row.State, row.Detail = replicaState(desired, d.Status.ReadyReplicas)
	for _, c := range d.Status.Conditions {
		if c.Type == appsv1.DeploymentAvailable {
			t := c.LastTransitionTime.Time
			row.LastTransition, row.Reason = &t, fmt.Sprintf("Available=%s (%s)", c.Status, c.Reason)
		}
	}
	return row
}

func replicaState(desired, ready int32) (State, string) {
	detail := fmt.Sprintf("%d/%d ready", ready, desired)
	switch {
	case desired == 0:
		return Degraded, "scaled to 0 replicas"
	case ready >= desired:
		return Healthy, detail
	case ready == 0:
		return Unhealthy, detail
	}
	return Degraded, detail
}

// controllerRow is a leader-elected controller: its Deployment and its
// Lease, whose holder must have renewed it within the lease duration, and
// the certificate its pods serve their health port with.
func (e *env) controllerRow(ctx context.Context, comp, name string) Row {
	row := e.deploymentRow(ctx, comp, assets.KubeSystem, name)
	if notAfter, ok := e.podsServingCert(ctx, name); ok {
		e.certState(&row, notAfter)
	}
	row.Check += " and Lease " + assets.KubeSystem + "/" + name
	ctx, cancel := context.WithTimeout(ctx, e.th.Timeout)
	defer cancel()
	l, err := e.cs.CoordinationV1().Leases(assets.KubeSystem).Get(ctx, name, metav1.GetOptions{})
	switch {
	case err != nil:
		row.State = worse(row.State, Degraded)
		row.Detail += "; lease: " + errText(err)
	case l.Spec.HolderIdentity == nil || *l.Spec.HolderIdentity == "" || l.Spec.RenewTime == nil:
		row.State = worse(row.State, Unhealthy)
		row.Detail += "; lease not held: no leader"
	default:
		d := 15 * time.Second
		if l.Spec.LeaseDurationSeconds != nil {
			d = time.Duration(*l.Spec.LeaseDurationSeconds) * time.Second
		}
		age := e.now().Sub(l.Spec.RenewTime.Time)
		holder := *l.Spec.HolderIdentity
		if i := strings.Index(holder, "_"); i > 0 {
			holder = holder[:i]
		}
		if age > d {
			row.State = worse(row.State, Unhealthy)
			row.Detail += fmt.Sprintf("; lease held by %s but last renewed %s ago (duration %s): no working leader", holder, age.Round(time.Second), d)
		} else {
			row.Detail += fmt.Sprintf("; leader %s (renewed %s ago)", holder, age.Round(100*time.Millisecond))
		}
	}
	return row
}

// podsServingCert reads the certificate each pod of a Deployment serves on
// the HTTPS port of its readiness probe, and returns the earliest expiry.
// A probe on loopback is reachable only from the pod's own node: only this
// node's pods are read then.
func (e *env) podsServingCert(ctx context.Context, name string) (time.Time, bool) {
	lctx, cancel := context.WithTimeout(ctx, e.th.Timeout)
	defer cancel()
	d, err := e.cs.AppsV1().Deployments(assets.KubeSystem).Get(lctx, name, metav1.GetOptions{})
	if err != nil {
		return time.Time{}, false
	}
	sel, err := metav1.LabelSelectorAsSelector(d.Spec.Selector)
	if err != nil {
		return time.Time{}, false
	}
	pods, err := e.cs.CoreV1().Pods(assets.KubeSystem).List(lctx, metav1.ListOptions{LabelSelector: sel.String()})
	if err != nil {
		return time.Time{}, false
	}
	var earliest time.Time
	for i := range pods.Items {
		p := &pods.Items[i]
		if len(p.Spec.Containers) == 0 || p.Spec.Containers[0].ReadinessProbe == nil || p.Spec.Containers[0].ReadinessProbe.HTTPGet == nil {
			continue
		}
		hg := p.Spec.Containers[0].ReadinessProbe.HTTPGet
		host := hg.Host
		if host == "" {
			host = p.Status.PodIP
		}
		if ip := net.ParseIP(host); host == "" || hg.Scheme != corev1.URISchemeHTTPS || hg.Port.IntValue() == 0 ||
			(ip != nil && ip.IsLoopback() && (e.cfg == nil || p.Spec.NodeName != e.cfg.Node.Name)) {
			continue
		}
		crt, err := tlsprobe.Served(ctx, net.JoinHostPort(host, strconv.Itoa(hg.Port.IntValue())), nil, e.th.Timeout)
		if err == nil && (earliest.IsZero() || crt.NotAfter.Before(earliest)) {
			earliest = crt.NotAfter
		}
	}
	return earliest, !earliest.IsZero()
}

// daemonSetPerNode: one row per node that should run the DaemonSet's pod.
func (e *env) daemonSetPerNode(ctx context.Context, comp, ns, name string, nodes []corev1.Node) []Row {
	ctx, cancel := context.WithTimeout(ctx, e.th.Timeout)
	defer cancel()
	ds, err := e.cs.AppsV1().DaemonSets(ns).Get(ctx, name, metav1.GetOptions{})
	if apierrors.IsNotFound(err) {
		return []Row{{Component: comp, State: Unhealthy, Check: "DaemonSet " + ns + "/" + name, Detail: "DaemonSet not found"}}
	}
	if err != nil {
		return []Row{{Component: comp, State: Unknown, Check: "DaemonSet " + ns + "/" + name, Detail: errText(err)}}
	}
	sel, err := metav1.LabelSelectorAsSelector(ds.Spec.Selector)
	if err != nil {
		return []Row{{Component: comp, State: Unknown, Check: "DaemonSet " + ns + "/" + name, Detail: errText(err)}}
	}
	pods, err := e.cs.CoreV1().Pods(ns).List(ctx, metav1.ListOptions{LabelSelector: sel.String()})
	if err != nil {
		return []Row{{Component: comp, State: Unknown, Check: "pods of DaemonSet " + ns + "/" + name, Detail: errText(err)}}
	}
	byNode := map[string][]*corev1.Pod{}
	for i := range pods.Items {
		if p := &pods.Items[i]; p.DeletionTimestamp == nil {
			byNode[p.Spec.NodeName] = append(byNode[p.Spec.NodeName], p)
		}
	}
	version := imageTag(ds.Spec.Template.Spec.Containers)
	var rows []Row
	for i := range nodes {
		n := &nodes[i]
		if n.Spec.Unschedulable && len(byNode[n.Name]) == 0 {
			continue
		}
		row := Row{Component: comp, Node: n.Name, Check: "pod of DaemonSet " + ns + "/" + name, Desired: count(1), Version: version}
		ready := int32(0)
		for _, p := range byNode[n.Name] {
			if poddiag.Ready(p) {
				ready++
			}
			setTransition(&row, p)
		}
		row.Ready = count(ready)
		switch {
		case len(byNode[n.Name]) == 0:
			row.State, row.Detail = Unhealthy, "no pod on this node"
		case ready == 0:
			row.State, row.Detail = Unhealthy, poddiag.Summary(byNode[n.Name][0])
		default:
			row.State, row.Detail = Healthy, "ready"
		}
		rows = append(rows, row)
	}
	return rows
}

// podNetworkRow: flannel's DaemonSet when it runs, else what the kubelets
// say of the node-local CNI (a kubelet without a working CNI config is not
// Ready with "network plugin not ready").
func (e *env) podNetworkRow(ctx context.Context, nodes []corev1.Node) Row {
	cni := ""
	if e.cfg != nil {
		cni = e.cfg.Networking.CNI
	}
	if cni == v1alpha1.CNIFlannel || cni == "" {
		fctx, cancel := context.WithTimeout(ctx, e.th.Timeout)
		ds, err := e.cs.AppsV1().DaemonSets(assets.Flannel).Get(fctx, "kube-flannel-ds", metav1.GetOptions{})
		cancel()
		if err == nil {
			row := Row{Component: CompPodNetwork, Check: "DaemonSet " + assets.Flannel + "/kube-flannel-ds (flannel)",
				Desired: count(ds.Status.DesiredNumberScheduled), Ready: count(ds.Status.NumberReady), Version: imageTag(ds.Spec.Template.Spec.Containers)}
			row.State, row.Detail = replicaState(ds.Status.DesiredNumberScheduled, ds.Status.NumberReady)
			return row
		}
		if cni == v1alpha1.CNIFlannel {
			return Row{Component: CompPodNetwork, State: Unhealthy, Check: "DaemonSet " + assets.Flannel + "/kube-flannel-ds (flannel)", Detail: errText(err)}
		}
	}
	if cni == v1alpha1.CNINone {
		return Row{Component: CompPodNetwork, State: Healthy, Check: "networking.cni: none", Detail: "not managed by bootstrap"}
	}
	row := Row{Component: CompPodNetwork, State: Healthy, Check: "the kubelets' network readiness (node-local CNI)", Desired: count(int32(len(nodes)))}
	ready := int32(0)
	var bad []string
	for _, n := range nodes {
		c := nodeCondition(&n, corev1.NodeReady)
		if c != nil && c.Status != corev1.ConditionTrue && strings.Contains(strings.ToLower(c.Message), "network") {
			bad = append(bad, n.Name+": "+c.Message)
			continue
		}
		ready++
	}
	row.Ready = count(ready)
	row.Detail = fmt.Sprintf("%d/%d nodes report a ready network", ready, len(nodes))
	if len(bad) > 0 {
		row.State, row.Detail = Unhealthy, strings.Join(bad, "; ")
	}
	return row
}

// kubeletRows: each Node's Ready condition and kubelet version, and the
// kubelet's serving certificate on its port.
func (e *env) kubeletRows(ctx context.Context, nodes []corev1.Node) []Row {
	var rows []Row
	for i := range nodes {
		n := &nodes[i]
		row := Row{Component: CompKubelet, Node: n.Name, Check: "Node " + n.Name + " Ready", Version: n.Status.NodeInfo.KubeletVersion}
		c := nodeCondition(n, corev1.NodeReady)
		switch {
		case c == nil:
			row.State, row.Detail = Unhealthy, "the node reports no Ready condition"
		case c.Status == corev1.ConditionTrue:
			row.State, row.Detail = Healthy, "Ready"
		default:
			row.State, row.Detail = Unhealthy, fmt.Sprintf("Ready=%s: %s", c.Status, c.Message)
		}
		if c != nil {
			t := c.LastTransitionTime.Time
			row.LastTransition, row.Reason = &t, c.Reason
		}
		if n.Spec.Unschedulable {
			row.State = worse(row.State, Degraded)
			row.Detail += "; cordoned"
		}
		if port := n.Status.DaemonEndpoints.KubeletEndpoint.Port; port > 0 && nodeAddress(n) != "" {
			if crt, err := tlsprobe.Served(ctx, net.JoinHostPort(nodeAddress(n), strconv.Itoa(int(port))), nil, e.th.Timeout); err == nil {
				e.certState(&row, crt.NotAfter)
			}
		}
		rows = append(rows, row)
	}
	return rows
}

// mirrorPodRows: the static pods' mirror pods in the API — the guard on
// every node that runs it, and etcd when the asset dir's credentials are
// not at hand.
func (e *env) mirrorPodRows(ctx context.Context, nodes []corev1.Node) []Row {
	ctx, cancel := context.WithTimeout(ctx, e.th.Timeout)
	defer cancel()
	pods, err := e.cs.CoreV1().Pods(assets.KubeSystem).List(ctx, metav1.ListOptions{})
	if err != nil {
		return nil
	}
	var rows []Row
	for i := range pods.Items {
		p := &pods.Items[i]
		comp := ""
		switch {
		case p.Name == assets.GuardPodName+"-"+p.Spec.NodeName:
			comp = CompGuard
		case p.Labels[assets.ComponentLabel] == "etcd" && !e.etcdChecked:
			comp = CompEtcd
		default:
			continue
		}
		row := Row{Component: comp, Node: p.Spec.NodeName, Check: "static pod " + p.Name, Desired: count(1), Ready: count(0), Version: imageTag(p.Spec.Containers)}
		if poddiag.Ready(p) {
			row.Ready = count(1)
			row.State, row.Detail = Healthy, "running, ready"
		} else {
			row.State, row.Detail = Unhealthy, poddiag.Summary(p)
		}
		setTransition(&row, p)
		rows = append(rows, row)
	}
	return rows
}

func nodeCondition(n *corev1.Node, t corev1.NodeConditionType) *corev1.NodeCondition {
	for i := range n.Status.Conditions {
		if n.Status.Conditions[i].Type == t {
			return &n.Status.Conditions[i]
		}
	}
	return nil
}

// imageTag is the tag of the first container's image ("v1.37.2").
func imageTag(cs []corev1.Container) string {
	if len(cs) == 0 {
		return ""
	}
	img := cs[0].Image
	if i := strings.LastIndex(img, ":"); i > strings.LastIndex(img, "/") {
		return img[i+1:]
	}
	return ""
}

// staticPodsRow: a control plane pivoted to static pods (`bootstrap pivot
// --to static-pods`) runs the component as a static pod per control-plane
// node instead of its Deployment; its mirror pods are counted.
func (e *env) staticPodsRow(ctx context.Context, comp, ns, name string) (Row, bool) {
	pods, err := e.cs.CoreV1().Pods(ns).List(ctx, metav1.ListOptions{LabelSelector: assets.ComponentLabel + "=" + name + "," + assets.StaticPodLabel + "=true"})
	if err != nil || len(pods.Items) == 0 {
		return Row{}, false
	}
	row := Row{Component: comp, Check: "static pods " + ns + "/" + name + "-<node>"}
	var ready int32
	for i := range pods.Items {
		p := &pods.Items[i]
		for _, c := range p.Status.Conditions {
			if c.Type == corev1.PodReady && c.Status == corev1.ConditionTrue && p.DeletionTimestamp == nil {
				ready++
			}
		}
		row.Version = imageTag(p.Spec.Containers)
	}
	desired := int32(len(pods.Items))
	row.Desired, row.Ready = count(desired), count(ready)
	row.State, row.Detail = replicaState(desired, ready)
	row.Detail += " (static pods)"
	return row, true
}
