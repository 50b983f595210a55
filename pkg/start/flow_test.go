package start

import (
	"bytes"
	"context"
	"net"
	"strings"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	coordinationv1 "k8s.io/api/coordination/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/version"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"k8s.io/utils/ptr"

	"github.com/bootstrap-k8s/bootstrap/internal/testcontrolplane"
	"github.com/bootstrap-k8s/bootstrap/pkg/assets"
	"github.com/bootstrap-k8s/bootstrap/pkg/tempcontrolplane"
	"github.com/bootstrap-k8s/bootstrap/pkg/ui"
)

// testFlow is a flow whose apiserver is the in-process temporary control
// plane, standing in for kube-apiserver (no kubelet and no controllers run:
// the test plays their part by writing statuses).
func testFlow(t *testing.T, cp *testcontrolplane.ControlPlane, o Options) (*flow, *bytes.Buffer) {
	t.Helper()
	var out bytes.Buffer
	o.AssetDir = cp.AssetDir
	if o.Wait == "" {
		o.Wait = WaitControlPlane
	}
	return &flow{o: o, cfg: cp.Config, p: ui.New(&out, &out, 1), deadline: time.Now().Add(2 * time.Minute),
		admin: cp.Admin, adminCS: cp.Client}, &out
}

// registerNode does what the kubelet does first.
func registerNode(t *testing.T, cs kubernetes.Interface, name string) {
	t.Helper()
	n := &corev1.Node{ObjectMeta: metav1.ObjectMeta{Name: name, Labels: map[string]string{"kubernetes.io/hostname": name}}}
	if _, err := cs.CoreV1().Nodes().Create(context.Background(), n, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
}

// markReady sets the Ready condition of every pod a component label matches,
// as the kubelet would.
func markReady(t *testing.T, cs kubernetes.Interface, component string) int {
	t.Helper()
	ctx := context.Background()
	pods, err := cs.CoreV1().Pods(assets.KubeSystem).List(ctx, metav1.ListOptions{LabelSelector: assets.ComponentLabel + "=" + component})
	if err != nil {
		t.Fatal(err)
	}
	for i := range pods.Items {
		p := &pods.Items[i]
		p.Status.Phase = corev1.PodRunning
		p.Status.Conditions = []corev1.PodCondition{{Type: corev1.PodReady, Status: corev1.ConditionTrue}}
		if _, err := cs.CoreV1().Pods(p.Namespace).UpdateStatus(ctx, p, metav1.UpdateOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	return len(pods.Items)
}

// holdLease makes the lease held and renewed now, as its component would.
func holdLease(t *testing.T, cs kubernetes.Interface, name string) {
	t.Helper()
	setLease(t, cs, name, time.Now())
}

// staleLease makes the lease's holder look gone: not renewed for a minute.
func staleLease(t *testing.T, cs kubernetes.Interface, name string) {
	t.Helper()
	setLease(t, cs, name, time.Now().Add(-time.Minute))
}

func setLease(t *testing.T, cs kubernetes.Interface, name string, renewed time.Time) {
	t.Helper()
	ctx := context.Background()
	at := metav1.NewMicroTime(renewed)
	spec := coordinationv1.LeaseSpec{HolderIdentity: ptr.To(name + "-pod"), LeaseDurationSeconds: ptr.To[int32](15), RenewTime: &at}
	leases := cs.CoordinationV1().Leases(assets.KubeSystem)
	l, err := leases.Get(ctx, name, metav1.GetOptions{})
	switch {
	case apierrors.IsNotFound(err):
		_, err = leases.Create(ctx, &coordinationv1.Lease{ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: assets.KubeSystem}, Spec: spec}, metav1.CreateOptions{})
	case err == nil:
		l.Spec = spec
		_, err = leases.Update(ctx, l, metav1.UpdateOptions{})
	}
	if err != nil {
		t.Fatal(err)
	}
}

// deletePods deletes a component's pods at once (no kubelet here to
// finish a graceful deletion).
func deletePods(t *testing.T, cs kubernetes.Interface, component string) {
	t.Helper()
	err := cs.CoreV1().Pods(assets.KubeSystem).DeleteCollection(context.Background(), metav1.DeleteOptions{GracePeriodSeconds: ptr.To[int64](0)},
		metav1.ListOptions{LabelSelector: assets.ComponentLabel + "=" + component})
	if err != nil {
		t.Fatal(err)
	}
}

// TestFlowAgainstTemporaryControlPlane runs start's phases from apply to the
// wait on a real apiserver: the asset dir's manifests in tiers, the node,
// the control-plane pods placed exactly as their DaemonSet and Deployments
// would (a second placement keeps them), and the wait for the control plane.
func TestFlowAgainstTemporaryControlPlane(t *testing.T) {
	cp := testcontrolplane.Start(t)
	ctx := context.Background()
	f, out := testFlow(t, cp, Options{})
	cs := cp.Client

	if err := f.apply(ctx); err != nil {
		t.Fatalf("apply: %v\n%s", err, out)
	}
	if !strings.Contains(out.String(), "[apply] Applied ") {
		t.Errorf("apply did not say what it applied:\n%s", out)
	}
	// Applying again converges (server-side apply, same field manager).
	if err := f.apply(ctx); err != nil {
		t.Fatalf("second apply: %v", err)
	}

	registerNode(t, cs, cp.Config.Node.Name)
	if err := f.node(ctx); err != nil {
		t.Fatalf("node: %v", err)
	}
	node, err := cs.CoreV1().Nodes().Get(ctx, cp.Config.Node.Name, metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := node.Labels[assets.ControlPlaneNodeLabel]; !ok {
		t.Errorf("node not labelled %s: %v", assets.ControlPlaneNodeLabel, node.Labels)
	}

	if err := f.placeAPIServer(ctx); err != nil {
		t.Fatalf("placing kube-apiserver: %v\n%s", err, out)
	}
	if !f.placedEarly {
		if err := f.placeControllers(ctx); err != nil {
			t.Fatalf("placing the controllers: %v", err)
		}
	}
	checkPlacedPods(t, cs, cp.Config.Node.Name)

	// A re-run finds the pods and keeps them.
	out.Reset()
	if err := f.placeAPIServer(ctx); err != nil {
		t.Fatal(err)
	}
	if err := f.placeControllers(ctx); err != nil {
		t.Fatal(err)
	}
	if n := strings.Count(out.String(), ": kept"); n < 3 {
		t.Errorf("a second placement did not keep the three pods:\n%s", out)
	}
	checkPlacedPods(t, cs, cp.Config.Node.Name)

	// Stuck: the pods are not Ready. The diagnosis names them.
	diag := f.diagnose()
	for _, want := range []string{"pod kube-system/kube-apiserver-", "pod kube-system/kube-scheduler-", "phase Pending"} {
		if !strings.Contains(diag, want) {
			t.Errorf("diagnosis lacks %q:\n%s", want, diag)
		}
	}
	f.deadline = time.Now().Add(time.Second)
	if err := f.waitReady(ctx); err == nil || !strings.Contains(err.Error(), "timed out") {
		t.Errorf("waitReady with nothing ready = %v, want a timeout that says what it waited for", err)
	}

	// The kubelet and the controllers do their part: start's wait passes.
	for _, c := range []string{assets.KubeAPIServer, assets.KubeControllerManager, assets.KubeScheduler} {
		if markReady(t, cs, c) != 1 {
			t.Errorf("want exactly one %s pod", c)
		}
	}
	holdLease(t, cs, assets.KubeControllerManager)
	holdLease(t, cs, assets.KubeScheduler)
	f.deadline = time.Now().Add(30 * time.Second)
	if err := f.waitReady(ctx); err != nil {
		t.Fatalf("waitReady: %v\n%s", err, out)
	}

	// complete() reads the workloads' statuses, which only controllers write.
	if ok, why := f.complete(ctx); ok {
		t.Errorf("complete without any controller status")
	} else if why == "" {
		t.Errorf("complete says nothing about what is missing")
	}
	setAvailable(t, cs)
	if ok, why := f.complete(ctx); !ok {
		t.Errorf("complete = false (%s) with every workload available", why)
	}
	if err := waitDaemonSetRolledOut(ctx, cs, assets.KubeSystem, assets.KubeAPIServer, 10*time.Second, f.report); err != nil {
		t.Errorf("waitDaemonSetRolledOut: %v", err)
	}
	if err := waitDeploymentAvailable(ctx, cs, assets.KubeSystem, assets.KubeScheduler, 10*time.Second, f.report); err != nil {
		t.Errorf("waitDeploymentAvailable: %v", err)
	}
	// Every controller-manager gone (its pods deleted, its lease not
	// renewed): the statuses still say available, but nothing would
	// re-create the pods, so the control plane is not complete.
	staleLease(t, cs, assets.KubeControllerManager)
	if ok, _ := f.complete(ctx); ok {
		t.Errorf("complete with the controller-manager's lease not renewed for a minute")
	}
	holdLease(t, cs, assets.KubeControllerManager)
	deletePods(t, cs, assets.KubeScheduler)
	if ok, why := f.complete(ctx); ok {
		t.Errorf("complete with no scheduler pod")
	} else if !strings.Contains(why, assets.KubeScheduler) {
		t.Errorf("complete = false (%s), want it to name %s", why, assets.KubeScheduler)
	}
	f.nextSteps()
	if !strings.Contains(out.String(), "Your self-hosted Kubernetes control plane is up") {
		t.Errorf("next steps missing:\n%s", out)
	}
}

// checkPlacedPods: one pod per control-plane component on the node, owned
// by its DaemonSet or by the Deployment's current ReplicaSet, with the
// labels the controller's selector matches.
func checkPlacedPods(t *testing.T, cs kubernetes.Interface, node string) {
	t.Helper()
	ctx := context.Background()
	ds, err := cs.AppsV1().DaemonSets(assets.KubeSystem).Get(ctx, assets.KubeAPIServer, metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []string{assets.KubeAPIServer, assets.KubeControllerManager, assets.KubeScheduler} {
		pods, err := cs.CoreV1().Pods(assets.KubeSystem).List(ctx, metav1.ListOptions{LabelSelector: assets.ComponentLabel + "=" + c})
		if err != nil {
			t.Fatal(err)
		}
		if len(pods.Items) != 1 {
			t.Errorf("%d %s pods, want 1", len(pods.Items), c)
			continue
		}
		p := pods.Items[0]
		if p.Spec.NodeName != node {
			t.Errorf("%s pod on %q, want %q", c, p.Spec.NodeName, node)
		}
		ref := metav1.GetControllerOf(&p)
		if ref == nil {
			t.Errorf("%s pod has no controller", c)
			continue
		}
		switch c {
		case assets.KubeAPIServer:
			if ref.Kind != "DaemonSet" || ref.UID != ds.UID {
				t.Errorf("kube-apiserver pod controlled by %s %s, want the DaemonSet", ref.Kind, ref.Name)
			}
		default:
			rs, err := cs.AppsV1().ReplicaSets(assets.KubeSystem).Get(ctx, ref.Name, metav1.GetOptions{})
			if err != nil || ref.Kind != "ReplicaSet" {
				t.Errorf("%s pod controlled by %s %s (%v), want a ReplicaSet", c, ref.Kind, ref.Name, err)
				continue
			}
			d, err := cs.AppsV1().Deployments(assets.KubeSystem).Get(ctx, c, metav1.GetOptions{})
			if err != nil {
				t.Fatal(err)
			}
			if owner := metav1.GetControllerOf(rs); owner == nil || owner.UID != d.UID {
				t.Errorf("ReplicaSet %s is not the Deployment's", rs.Name)
			}
			if rs.Labels[appsv1.DefaultDeploymentUniqueLabelKey] == "" || p.Labels[appsv1.DefaultDeploymentUniqueLabelKey] != rs.Labels[appsv1.DefaultDeploymentUniqueLabelKey] {
				t.Errorf("%s: pod-template-hash pod %q, ReplicaSet %q", c, p.Labels[appsv1.DefaultDeploymentUniqueLabelKey], rs.Labels[appsv1.DefaultDeploymentUniqueLabelKey])
			}
		}
	}
}

// setAvailable writes the statuses the DaemonSet and Deployment controllers
// would write once every pod runs.
func setAvailable(t *testing.T, cs kubernetes.Interface) {
	t.Helper()
	ctx := context.Background()
	for _, name := range []string{assets.KubeAPIServer, assets.KubeProxy} {
		ds, err := cs.AppsV1().DaemonSets(assets.KubeSystem).Get(ctx, name, metav1.GetOptions{})
		if err != nil {
			t.Fatal(err)
		}
		ds.Status = appsv1.DaemonSetStatus{DesiredNumberScheduled: 1, CurrentNumberScheduled: 1, UpdatedNumberScheduled: 1, NumberAvailable: 1, NumberReady: 1, ObservedGeneration: ds.Generation}
		if _, err := cs.AppsV1().DaemonSets(assets.KubeSystem).UpdateStatus(ctx, ds, metav1.UpdateOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	for _, name := range []string{assets.KubeControllerManager, assets.KubeScheduler} {
		d, err := cs.AppsV1().Deployments(assets.KubeSystem).Get(ctx, name, metav1.GetOptions{})
		if err != nil {
			t.Fatal(err)
		}
		want := ptr.Deref(d.Spec.Replicas, 1)
		d.Status = appsv1.DeploymentStatus{Replicas: want, UpdatedReplicas: want, AvailableReplicas: want, ReadyReplicas: want, ObservedGeneration: d.Generation}
		if _, err := cs.AppsV1().Deployments(assets.KubeSystem).UpdateStatus(ctx, d, metav1.UpdateOptions{}); err != nil {
			t.Fatal(err)
		}
		if want > 1 {
			// The second replica: the test plays the ReplicaSet controller.
			pods, _ := cs.CoreV1().Pods(assets.KubeSystem).List(ctx, metav1.ListOptions{LabelSelector: assets.ComponentLabel + "=" + name})
			for i := int32(len(pods.Items)); i < want; i++ {
				p := pods.Items[0].DeepCopy()
				p.ObjectMeta = metav1.ObjectMeta{GenerateName: name + "-", Namespace: assets.KubeSystem, Labels: p.Labels, OwnerReferences: p.OwnerReferences}
				p.Status = corev1.PodStatus{}
				if _, err := cs.CoreV1().Pods(assets.KubeSystem).Create(ctx, p, metav1.CreateOptions{}); err != nil {
					t.Fatal(err)
				}
			}
			markReady(t, cs, name)
		}
	}
}

// TestDetectStateRefusesARunningTemporaryAPIServer: another start (or
// recover) on this node owns the port; this one must not touch anything.
func TestDetectStateRefusesARunningTemporaryAPIServer(t *testing.T) {
	cp := testcontrolplane.Start(t)
	f, _ := testFlow(t, cp, Options{})
	done, err := f.detectState(context.Background())
	if done || err == nil || !strings.Contains(err.Error(), "a temporary bootstrap apiserver already answers") {
		t.Fatalf("detectState = %v, %v", done, err)
	}
	// Nothing serving at all: a fresh start.
	f.admin = rest.CopyConfig(cp.Admin)
	f.admin.Host = "https://" + closedAddr(t)
	if done, err := f.detectState(context.Background()); done || err != nil || f.resumed {
		t.Fatalf("nothing serving: detectState = %v, %v (resumed %v), want a fresh start", done, err, f.resumed)
	}
}

// TestWaitSelfHostedServing: probes fall back from an address where nothing
// listens to the next one, count only answers of a non-temporary apiserver,
// and need that many in a row.
func TestWaitSelfHostedServing(t *testing.T) {
	cp := testcontrolplane.Start(t)
	ctx := context.Background()
	closed := rest.CopyConfig(cp.Admin)
	closed.Host = "https://" + closedAddr(t)
	var reports []string
	report := func(s string) { reports = append(reports, s) }
	if err := waitSelfHostedServing(ctx, []*rest.Config{closed, cp.Admin}, func(*version.Info) bool { return false }, 3, 20*time.Second, report, nil); err != nil {
		t.Fatalf("waitSelfHostedServing: %v", err)
	}
	err := waitSelfHostedServing(ctx, []*rest.Config{closed, cp.Admin}, tempcontrolplane.IsTemporary, 1, 700*time.Millisecond, report, nil)
	if err == nil || !strings.Contains(err.Error(), "reached the temporary apiserver") {
		t.Errorf("only the temporary apiserver answers: err = %v", err)
	}
}

func closedAddr(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	return addr
}
