package status

import (
	"context"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	coordinationv1 "k8s.io/api/coordination/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/utils/ptr"

	"github.com/bootstrap-k8s/bootstrap/internal/testcontrolplane"
	"github.com/bootstrap-k8s/bootstrap/internal/testetcd"
	"github.com/bootstrap-k8s/bootstrap/pkg/assets"
)

// fast thresholds: one probe decides, short deadlines.
var fast = Thresholds{Interval: 100 * time.Millisecond, Timeout: 2 * time.Second, Healthy: 1, Unhealthy: 2}

func kubeletHealthz(t *testing.T, code int) {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(code) }))
	t.Cleanup(srv.Close)
	old := KubeletHealthzURL
	KubeletHealthzURL = srv.URL + "/healthz"
	t.Cleanup(func() { KubeletHealthzURL = old })
}

func staticPods(t *testing.T, dir string, files ...string) {
	t.Helper()
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	for _, f := range files {
		if err := os.WriteFile(filepath.Join(dir, f), []byte("kind: Pod\n"), 0o600); err != nil {
			t.Fatal(err)
		}
	}
}

// healthyCluster writes what a healthy one-node cluster shows through the
// API: a Ready control-plane node, a Ready kube-apiserver pod on it, the
// controllers' Deployments with every replica ready and fresh leases, and
// the add-ons.
func healthyCluster(t *testing.T, cs kubernetes.Interface) {
	t.Helper()
	ctx := context.Background()
	now := metav1.Now()
	node := &corev1.Node{ObjectMeta: metav1.ObjectMeta{Name: testcontrolplane.NodeName, Labels: map[string]string{assets.ControlPlaneNodeLabel: ""}}}
	n, err := cs.CoreV1().Nodes().Create(ctx, node, metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	n.Status.Addresses = []corev1.NodeAddress{{Type: corev1.NodeInternalIP, Address: "127.0.0.1"}}
	n.Status.Conditions = []corev1.NodeCondition{{Type: corev1.NodeReady, Status: corev1.ConditionTrue, Reason: "KubeletReady", LastTransitionTime: now, LastHeartbeatTime: now}}
	n.Status.NodeInfo.KubeletVersion = "v1.37.2"
	if _, err := cs.CoreV1().Nodes().UpdateStatus(ctx, n, metav1.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}
	readyPod := func(name string, labels map[string]string) {
		p := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: assets.KubeSystem, Labels: labels},
			Spec: corev1.PodSpec{NodeName: testcontrolplane.NodeName, Containers: []corev1.Container{{Name: "c", Image: "registry.k8s.io/x:v1.37.2"}}}}
		p, err := cs.CoreV1().Pods(assets.KubeSystem).Create(ctx, p, metav1.CreateOptions{})
		if err != nil {
			t.Fatal(err)
		}
		p.Status.Phase = corev1.PodRunning
		p.Status.Conditions = []corev1.PodCondition{{Type: corev1.PodReady, Status: corev1.ConditionTrue, LastTransitionTime: now}}
		if _, err := cs.CoreV1().Pods(assets.KubeSystem).UpdateStatus(ctx, p, metav1.UpdateOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	readyPod("kube-apiserver-abcde", map[string]string{assets.ComponentLabel: assets.KubeAPIServer})
	readyPod("kube-proxy-abcde", map[string]string{assets.ComponentLabel: assets.KubeProxy})
	readyPod(assets.GuardPodName+"-"+testcontrolplane.NodeName, map[string]string{assets.ComponentLabel: assets.GuardPodName})
	tmpl := func(labels map[string]string) corev1.PodTemplateSpec {
		return corev1.PodTemplateSpec{ObjectMeta: metav1.ObjectMeta{Labels: labels},
			Spec: corev1.PodSpec{Containers: []corev1.Container{{Name: "c", Image: "registry.k8s.io/x:v1.37.2"}}}}
	}
	for _, name := range []string{assets.KubeControllerManager, assets.KubeScheduler, assets.CoreDNS, assets.CSRApprover} {
		labels := map[string]string{assets.ComponentLabel: name}
		d := &appsv1.Deployment{ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: assets.KubeSystem},
			Spec: appsv1.DeploymentSpec{Replicas: ptr.To[int32](2), Selector: &metav1.LabelSelector{MatchLabels: labels}, Template: tmpl(labels)}}
		d, err := cs.AppsV1().Deployments(assets.KubeSystem).Create(ctx, d, metav1.CreateOptions{})
		if err != nil {
			t.Fatal(err)
		}
		d.Status.Replicas, d.Status.ReadyReplicas = 2, 2
		d.Status.Conditions = []appsv1.DeploymentCondition{{Type: appsv1.DeploymentAvailable, Status: corev1.ConditionTrue, Reason: "MinimumReplicasAvailable", LastTransitionTime: now}}
		if _, err := cs.AppsV1().Deployments(assets.KubeSystem).UpdateStatus(ctx, d, metav1.UpdateOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	for _, name := range []string{assets.KubeControllerManager, assets.KubeScheduler} {
		micro := metav1.NewMicroTime(time.Now())
		l := &coordinationv1.Lease{ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: assets.KubeSystem},
			Spec: coordinationv1.LeaseSpec{HolderIdentity: ptr.To(testcontrolplane.NodeName + "_0123"), LeaseDurationSeconds: ptr.To[int32](15), RenewTime: &micro}}
		if _, err := cs.CoordinationV1().Leases(assets.KubeSystem).Create(ctx, l, metav1.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	labels := map[string]string{assets.ComponentLabel: assets.KubeProxy}
	ds := &appsv1.DaemonSet{ObjectMeta: metav1.ObjectMeta{Name: assets.KubeProxy, Namespace: assets.KubeSystem},
		Spec: appsv1.DaemonSetSpec{Selector: &metav1.LabelSelector{MatchLabels: labels}, Template: tmpl(labels)}}
	if _, err := cs.AppsV1().DaemonSets(assets.KubeSystem).Create(ctx, ds, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
}

func row(t *testing.T, rep *Report, comp, node string) Row {
	t.Helper()
	for _, r := range rep.Rows {
		if r.Component == comp && (node == "" || r.Node == node) {
			return r
		}
	}
	t.Fatalf("no %s row on %q in %+v", comp, node, rep.Rows)
	return Row{}
}

// TestCheckHealthyThenDegraded: against a real apiserver and a real etcd
// member with the asset dir's certificates, a complete cluster reads
// Healthy with etcd's leader and served certificates; without the
// scheduler's Deployment it reads Degraded, naming it.
func TestCheckHealthyThenDegraded(t *testing.T) {
	cp := testcontrolplane.Start(t)
	testetcd.Start(t, cp.AssetDir, testetcd.Member{Name: testcontrolplane.NodeName, ClientPort: int(cp.Config.Etcd.Local.ClientPort)})
	kubeletHealthz(t, http.StatusOK)
	staticPods(t, cp.Config.Node.StaticPodPath, "etcd.yaml", assets.GuardStaticPodFile)
	healthyCluster(t, cp.Client)
	o := Options{AssetDir: cp.AssetDir, Config: cp.Config, Thresholds: fast}

	rep, err := Check(context.Background(), o)
	if err != nil {
		t.Fatal(err)
	}
	if rep.Overall != Healthy {
		t.Fatalf("overall %s: %s; rows %+v", rep.Overall, rep.Reason, rep.Rows)
	}
	for _, r := range rep.Rows {
		t.Logf("%s %s %s: %s; %s", r.Component, r.Node, r.State, r.Check, r.Detail)
	}
	etcd := row(t, rep, CompEtcd, testcontrolplane.NodeName)
	if !strings.Contains(etcd.Detail, "leader") || !strings.Contains(etcd.Detail, "/health: true") || etcd.Version == "" || etcd.CertNotAfter == nil {
		t.Errorf("etcd row: %+v", etcd)
	}
	api := row(t, rep, CompAPIServer, testcontrolplane.NodeName)
	if !strings.Contains(api.Check, "127.0.0.1") || api.CertNotAfter == nil || api.Ready == nil || *api.Ready != 1 {
		t.Errorf("kube-apiserver row: %+v", api)
	}
	if want := cp.Config.Certificates.Validity.Duration; api.CertNotAfter.Sub(time.Now()) > want || api.CertNotAfter.Sub(time.Now()) < want-time.Hour {
		t.Errorf("kube-apiserver serves a certificate until %s, want about %s from now", api.CertNotAfter, want)
	}
	if s := row(t, rep, CompScheduler, ""); !strings.Contains(s.Detail, "leader "+testcontrolplane.NodeName) {
		t.Errorf("scheduler row: %+v", s)
	}
	row(t, rep, CompGuard, testcontrolplane.NodeName)

	if err := cp.Client.AppsV1().Deployments(assets.KubeSystem).Delete(context.Background(), assets.KubeScheduler, metav1.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	rep, err = Check(context.Background(), o)
	if err != nil {
		t.Fatal(err)
	}
	if rep.Overall != Degraded || !strings.Contains(rep.Reason, "kube-scheduler") {
		t.Fatalf("without the scheduler Deployment: overall %s: %s", rep.Overall, rep.Reason)
	}
	if s := row(t, rep, CompScheduler, ""); s.State != Unhealthy || !strings.Contains(s.Detail, "not found") {
		t.Errorf("scheduler row: %+v", s)
	}
}

// TestCheckAPIDown: no apiserver at all, etcd running: Unhealthy, etcd
// still reported Healthy, the kubelet's healthz and the static pods on disk
// checked, the API's components Unknown — within the deadlines.
func TestCheckAPIDown(t *testing.T) {
	dir, cfg := testcontrolplane.Render(t)
	testetcd.Start(t, dir, testetcd.Member{Name: testcontrolplane.NodeName, ClientPort: int(cfg.Etcd.Local.ClientPort)})
	kubeletHealthz(t, http.StatusOK)
	staticPods(t, cfg.Node.StaticPodPath, "etcd.yaml")
	begin := time.Now()
	rep, err := Check(context.Background(), Options{AssetDir: dir, Config: cfg, Thresholds: fast})
	if err != nil {
		t.Fatal(err)
	}
	if took := time.Since(begin); took > 4*fast.Timeout {
		t.Errorf("status took %s with a %s timeout", took, fast.Timeout)
	}
	if rep.Overall != Unhealthy || rep.APIReachable || !strings.Contains(rep.Reason, "no kube-apiserver serves") {
		t.Fatalf("overall %s (api reachable %v): %s", rep.Overall, rep.APIReachable, rep.Reason)
	}
	if e := row(t, rep, CompEtcd, testcontrolplane.NodeName); e.State != Healthy {
		t.Errorf("etcd row while the API is down: %+v", e)
	}
	if k := row(t, rep, CompKubelet, testcontrolplane.NodeName); k.State != Healthy || !strings.Contains(k.Check, "healthz") {
		t.Errorf("kubelet row: %+v", k)
	}
	if s := row(t, rep, CompStaticPods, testcontrolplane.NodeName); s.State != Healthy || !strings.Contains(s.Detail, "etcd.yaml") {
		t.Errorf("static pods row: %+v", s)
	}
	if s := row(t, rep, CompScheduler, ""); s.State != Unknown {
		t.Errorf("scheduler row while the API is down: %+v", s)
	}
	if a := row(t, rep, CompAPIServer, testcontrolplane.NodeName); a.State != Unhealthy {
		t.Errorf("kube-apiserver row: %+v", a)
	}
}

// TestCheckEtcdDown: the member does not listen: its row says why, and the
// whole is Unhealthy (no quorum).
func TestCheckEtcdDown(t *testing.T) {
	dir, cfg := testcontrolplane.Render(t)
	kubeletHealthz(t, http.StatusInternalServerError)
	rep, err := Check(context.Background(), Options{AssetDir: dir, Config: cfg, Thresholds: fast})
	if err != nil {
		t.Fatal(err)
	}
	e := row(t, rep, CompEtcd, testcontrolplane.NodeName)
	if e.State != Unhealthy || !strings.Contains(e.Detail, "connection refused") {
		t.Errorf("etcd row: %+v", e)
	}
	if rep.Overall != Unhealthy || !strings.Contains(rep.Reason, "etcd has no quorum") {
		t.Errorf("overall %s: %s", rep.Overall, rep.Reason)
	}
	if k := row(t, rep, CompKubelet, testcontrolplane.NodeName); k.State != Unhealthy {
		t.Errorf("kubelet row with a failing healthz: %+v", k)
	}
}

// TestWatchReportsTransitions: --watch reports once the checks decided,
// and again when a state changes, with the moment it saw the change.
func TestWatchReportsTransitions(t *testing.T) {
	cp := testcontrolplane.Start(t)
	testetcd.Start(t, cp.AssetDir, testetcd.Member{Name: testcontrolplane.NodeName, ClientPort: int(cp.Config.Etcd.Local.ClientPort)})
	kubeletHealthz(t, http.StatusOK)
	staticPods(t, cp.Config.Node.StaticPodPath, "etcd.yaml")
	healthyCluster(t, cp.Client)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	reports := make(chan *Report, 16)
	done := make(chan error, 1)
	go func() {
		done <- Watch(ctx, Options{AssetDir: cp.AssetDir, Config: cp.Config, Thresholds: fast}, func(r *Report) { reports <- r })
	}()
	first := <-reports
	if first.Overall != Healthy {
		t.Fatalf("first report: %s: %s", first.Overall, first.Reason)
	}
	deleted := time.Now()
	if err := cp.Client.AppsV1().Deployments(assets.KubeSystem).Delete(ctx, assets.KubeScheduler, metav1.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	var next *Report
	select {
	case next = <-reports:
	case <-ctx.Done():
		t.Fatal("no report after the scheduler Deployment was deleted")
	}
	if next.Overall != Degraded {
		t.Errorf("after the deletion: %s: %s", next.Overall, next.Reason)
	}
	s := row(t, next, CompScheduler, "")
	if s.LastTransition == nil || s.LastTransition.Before(deleted) || s.Reason != "observed by this command" {
		t.Errorf("scheduler row's transition: %+v", s)
	}
	cancel()
	if err := <-done; err != nil {
		t.Errorf("Watch: %v", err)
	}
}
