package tempcontrolplane

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	applyconfigcorev1 "k8s.io/client-go/applyconfigurations/core/v1"
	"k8s.io/utils/ptr"

	"github.com/bootstrap-k8s/bootstrap/pkg/assets"
)

func pod(name, node string) *corev1.Pod {
	return &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Name: name, Labels: map[string]string{"app": name}},
		Spec: corev1.PodSpec{NodeName: node, Containers: []corev1.Container{{
			Name: "c", Image: "registry.k8s.io/pause:3.10.2",
			LivenessProbe: &corev1.Probe{ProbeHandler: corev1.ProbeHandler{HTTPGet: &corev1.HTTPGetAction{Port: intOrStr(8080)}}},
			Ports:         []corev1.ContainerPort{{ContainerPort: 8080}},
		}}},
	}
}

// TestFieldSelectors covers every selector the kubelet and controllers use.
func TestFieldSelectors(t *testing.T) {
	cp := shared
	ctx := context.Background()
	ns := newNamespace(t, cp)
	for _, p := range []*corev1.Pod{pod("on-a", "fs-node-a"), pod("on-b", "fs-node-b"), pod("unscheduled", "")} {
		if _, err := cp.cs.CoreV1().Pods(ns).Create(ctx, p, metav1.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	for _, n := range []string{"fs-node-a", "fs-node-b"} {
		if _, err := cp.cs.CoreV1().Nodes().Create(ctx, &corev1.Node{ObjectMeta: metav1.ObjectMeta{Name: n}}, metav1.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	for _, n := range []string{"s1", "s2"} {
		if _, err := cp.cs.CoreV1().Secrets(ns).Create(ctx, &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: n}}, metav1.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
		if _, err := cp.cs.CoreV1().ConfigMaps(ns).Create(ctx, &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: n}}, metav1.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	svc := func(name, ip string) *corev1.Service {
		return &corev1.Service{ObjectMeta: metav1.ObjectMeta{Name: name}, Spec: corev1.ServiceSpec{ClusterIP: ip, Ports: []corev1.ServicePort{{Port: 53}}}}
	}
	for _, s := range []*corev1.Service{svc("headless", "None"), svc("normal", "")} {
		if _, err := cp.cs.CoreV1().Services(ns).Create(ctx, s, metav1.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	names := func(t *testing.T, list func(metav1.ListOptions) ([]string, error), sel string) []string {
		t.Helper()
		got, err := list(metav1.ListOptions{FieldSelector: sel})
		if err != nil {
			t.Fatalf("list %s: %v", sel, err)
		}
		return got
	}
	pods := func(o metav1.ListOptions) ([]string, error) {
		l, err := cp.cs.CoreV1().Pods(ns).List(ctx, o)
		return itemNames(l, err, func(i int) string { return l.Items[i].Name }, func() int { return len(l.Items) })
	}
	nodes := func(o metav1.ListOptions) ([]string, error) {
		l, err := cp.cs.CoreV1().Nodes().List(ctx, o)
		return itemNames(l, err, func(i int) string { return l.Items[i].Name }, func() int { return len(l.Items) })
	}
	secrets := func(o metav1.ListOptions) ([]string, error) {
		l, err := cp.cs.CoreV1().Secrets(ns).List(ctx, o)
		return itemNames(l, err, func(i int) string { return l.Items[i].Name }, func() int { return len(l.Items) })
	}
	cms := func(o metav1.ListOptions) ([]string, error) {
		l, err := cp.cs.CoreV1().ConfigMaps(ns).List(ctx, o)
		return itemNames(l, err, func(i int) string { return l.Items[i].Name }, func() int { return len(l.Items) })
	}
	svcs := func(o metav1.ListOptions) ([]string, error) {
		l, err := cp.cs.CoreV1().Services(ns).List(ctx, o)
		return itemNames(l, err, func(i int) string { return l.Items[i].Name }, func() int { return len(l.Items) })
	}
	cases := []struct {
		name string
		list func(metav1.ListOptions) ([]string, error)
		sel  string
		want []string
	}{
		{"pods by node", pods, "spec.nodeName=fs-node-a", []string{"on-a"}},
		{"pods unscheduled", pods, "spec.nodeName=", []string{"unscheduled"}},
		{"pods pending", pods, "status.phase=Pending", []string{"on-a", "on-b", "unscheduled"}},
		{"nodes by name", nodes, "metadata.name=fs-node-b", []string{"fs-node-b"}},
		{"secrets by name", secrets, "metadata.name=s2", []string{"s2"}},
		{"configmaps by name", cms, "metadata.name=s1", []string{"s1"}},
		{"services not headless", svcs, "spec.clusterIP!=None", []string{"normal"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got := names(t, c.list, c.sel)
			if !equalStrings(got, c.want) {
				t.Fatalf("%s: got %v, want %v", c.sel, got, c.want)
			}
		})
	}
	t.Run("unsupported selector", func(t *testing.T) {
		_, err := cp.cs.CoreV1().Pods(ns).List(ctx, metav1.ListOptions{FieldSelector: "spec.bogus=x"})
		if !apierrors.IsBadRequest(err) {
			t.Fatalf("want 400 for an unknown field label, got %v", err)
		}
	})
	t.Run("watch pods by node", func(t *testing.T) {
		w, err := cp.cs.CoreV1().Pods(ns).Watch(ctx, metav1.ListOptions{FieldSelector: "spec.nodeName=fs-node-b"})
		if err != nil {
			t.Fatal(err)
		}
		defer w.Stop()
		if _, err := cp.cs.CoreV1().Pods(ns).Create(ctx, pod("later-b", "fs-node-b"), metav1.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
		if _, err := cp.cs.CoreV1().Pods(ns).Create(ctx, pod("later-a", "fs-node-a"), metav1.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
		seen := map[string]bool{}
		deadline := time.After(5 * time.Second)
		for !seen["later-b"] {
			select {
			case ev := <-w.ResultChan():
				seen[ev.Object.(*corev1.Pod).Name] = true
			case <-deadline:
				t.Fatalf("no event for later-b; saw %v", seen)
			}
		}
		if seen["later-a"] {
			t.Fatal("watch with spec.nodeName=fs-node-b delivered a pod of fs-node-a")
		}
	})
}

func itemNames(_ any, err error, name func(int) string, n func() int) ([]string, error) {
	if err != nil {
		return nil, err
	}
	out := []string{}
	for i := 0; i < n(); i++ {
		out = append(out, name(i))
	}
	return out, nil
}

func equalStrings(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	m := map[string]int{}
	for _, s := range a {
		m[s]++
	}
	for _, s := range b {
		m[s]--
	}
	for _, v := range m {
		if v != 0 {
			return false
		}
	}
	return true
}

// TestPodCreateStrategy: status is Pending with a QoS class whatever the
// client sends, generation starts at 1, and pod defaults are applied.
func TestPodCreateStrategy(t *testing.T) {
	cp := shared
	ctx := context.Background()
	ns := newNamespace(t, cp)
	p := pod("p", "n1")
	p.Status.Phase = corev1.PodRunning
	p.Spec.HostNetwork = true
	p.Spec.ServiceAccountName = "sa"
	p.Spec.Containers[0].Resources.Limits = corev1.ResourceList{corev1.ResourceCPU: resource.MustParse("100m"), corev1.ResourceMemory: resource.MustParse("64Mi")}
	got, err := cp.cs.CoreV1().Pods(ns).Create(ctx, p, metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	c := got.Spec.Containers[0]
	checks := []struct {
		what string
		ok   bool
	}{
		{"phase Pending", got.Status.Phase == corev1.PodPending},
		{"qosClass Guaranteed (requests defaulted from limits)", got.Status.QOSClass == corev1.PodQOSGuaranteed},
		{"generation 1", got.Generation == 1},
		{"enableServiceLinks true", got.Spec.EnableServiceLinks != nil && *got.Spec.EnableServiceLinks},
		{"dnsPolicy ClusterFirst", got.Spec.DNSPolicy == corev1.DNSClusterFirst},
		{"restartPolicy Always", got.Spec.RestartPolicy == corev1.RestartPolicyAlways},
		{"schedulerName", got.Spec.SchedulerName == corev1.DefaultSchedulerName},
		{"terminationGracePeriodSeconds 30", ptr.Deref(got.Spec.TerminationGracePeriodSeconds, 0) == 30},
		{"securityContext {}", got.Spec.SecurityContext != nil},
		{"imagePullPolicy IfNotPresent", c.ImagePullPolicy == corev1.PullIfNotPresent},
		{"terminationMessagePath", c.TerminationMessagePath == corev1.TerminationMessagePathDefault},
		{"terminationMessagePolicy", c.TerminationMessagePolicy == corev1.TerminationMessageReadFile},
		{"probe periodSeconds 10", c.LivenessProbe.PeriodSeconds == 10 && c.LivenessProbe.TimeoutSeconds == 1 && c.LivenessProbe.SuccessThreshold == 1 && c.LivenessProbe.FailureThreshold == 3},
		{"probe httpGet path and scheme", c.LivenessProbe.HTTPGet.Path == "/" && c.LivenessProbe.HTTPGet.Scheme == corev1.URISchemeHTTP},
		{"port protocol TCP", c.Ports[0].Protocol == corev1.ProtocolTCP},
		{"hostNetwork hostPort", c.Ports[0].HostPort == 8080},
		{"serviceAccount mirrors serviceAccountName", got.Spec.DeprecatedServiceAccount == "sa"},
	}
	for _, ch := range checks {
		if !ch.ok {
			t.Errorf("%s: not satisfied", ch.what)
		}
	}
	// Best effort and burstable.
	be, _ := cp.cs.CoreV1().Pods(ns).Create(ctx, pod("be", ""), metav1.CreateOptions{})
	if be == nil || be.Status.QOSClass != corev1.PodQOSBestEffort {
		t.Errorf("best-effort pod: %v", be)
	}
	bu := pod("bu", "")
	bu.Spec.Containers[0].Resources.Requests = corev1.ResourceList{corev1.ResourceCPU: resource.MustParse("10m")}
	bu, _ = cp.cs.CoreV1().Pods(ns).Create(ctx, bu, metav1.CreateOptions{})
	if bu == nil || bu.Status.QOSClass != corev1.PodQOSBurstable {
		t.Errorf("burstable pod: %v", bu)
	}
	// Validation speaks kube's error format.
	bad := pod("Bad_Name", "")
	_, err = cp.cs.CoreV1().Pods(ns).Create(ctx, bad, metav1.CreateOptions{})
	if !apierrors.IsInvalid(err) {
		t.Errorf("invalid name: want 422 Invalid, got %v", err)
	}
}

// TestStatusSubresources: SMP on pods/status and nodes/status changes only
// status; the main endpoint ignores status changes.
func TestStatusSubresources(t *testing.T) {
	cp := shared
	ctx := context.Background()
	ns := newNamespace(t, cp)
	p, err := cp.cs.CoreV1().Pods(ns).Create(ctx, pod("p", "n1"), metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	patch := `{"metadata":{"uid":"` + string(p.UID) + `"},"spec":{"nodeName":"other"},"status":{"phase":"Running","podIP":"10.0.0.7","conditions":[{"type":"Ready","status":"True"}]}}`
	got, err := cp.cs.CoreV1().Pods(ns).Patch(ctx, "p", types.StrategicMergePatchType, []byte(patch), metav1.PatchOptions{}, "status")
	if err != nil {
		t.Fatal(err)
	}
	if got.Status.Phase != corev1.PodRunning || got.Status.PodIP != "10.0.0.7" || got.Spec.NodeName != "n1" || got.Status.QOSClass == "" {
		t.Fatalf("pods/status patch: phase %s ip %s node %s qos %q", got.Status.Phase, got.Status.PodIP, got.Spec.NodeName, got.Status.QOSClass)
	}
	got.Status.Phase = corev1.PodFailed
	got.Labels["x"] = "y"
	upd, err := cp.cs.CoreV1().Pods(ns).Update(ctx, got, metav1.UpdateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if upd.Status.Phase != corev1.PodRunning || upd.Labels["x"] != "y" {
		t.Fatalf("main endpoint changed status or dropped the label: %s %v", upd.Status.Phase, upd.Labels)
	}

	n, err := cp.cs.CoreV1().Nodes().Create(ctx, &corev1.Node{ObjectMeta: metav1.ObjectMeta{Name: "status-node"}, Spec: corev1.NodeSpec{PodCIDR: "10.244.0.0/24"}}, metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	npatch := `{"spec":{"unschedulable":true},"status":{"conditions":[{"type":"Ready","status":"True","reason":"KubeletReady"}],"capacity":{"cpu":"2"}}}`
	gotN, err := cp.cs.CoreV1().Nodes().Patch(ctx, n.Name, types.StrategicMergePatchType, []byte(npatch), metav1.PatchOptions{}, "status")
	if err != nil {
		t.Fatal(err)
	}
	if len(gotN.Status.Conditions) != 1 || gotN.Spec.Unschedulable || gotN.Status.Allocatable.Cpu().String() != "2" {
		t.Fatalf("nodes/status patch: %+v unschedulable=%v allocatable=%v", gotN.Status.Conditions, gotN.Spec.Unschedulable, gotN.Status.Allocatable)
	}
	// SMP merges condition lists by type, as the kubelet expects.
	npatch2 := `{"status":{"conditions":[{"type":"MemoryPressure","status":"False"}]}}`
	gotN, err = cp.cs.CoreV1().Nodes().Patch(ctx, n.Name, types.StrategicMergePatchType, []byte(npatch2), metav1.PatchOptions{}, "status")
	if err != nil {
		t.Fatal(err)
	}
	if len(gotN.Status.Conditions) != 2 {
		t.Fatalf("strategic merge of conditions: got %+v", gotN.Status.Conditions)
	}
	// JSON merge patch and JSON patch work too.
	if _, err := cp.cs.CoreV1().Nodes().Patch(ctx, n.Name, types.MergePatchType, []byte(`{"metadata":{"labels":{"a":"b"}}}`), metav1.PatchOptions{}); err != nil {
		t.Fatal(err)
	}
	if _, err := cp.cs.CoreV1().Nodes().Patch(ctx, n.Name, types.JSONPatchType, []byte(`[{"op":"add","path":"/metadata/labels/c","value":"d"}]`), metav1.PatchOptions{}); err != nil {
		t.Fatal(err)
	}
}

// TestServerSideApply: apply creates, re-apply updates, a second manager
// conflicts, the main endpoint's reset fields exclude status.
func TestServerSideApply(t *testing.T) {
	cp := shared
	ctx := context.Background()
	ns := newNamespace(t, cp)
	cm := applyconfigcorev1.ConfigMap("applied", ns).WithData(map[string]string{"a": "1"})
	got, err := cp.cs.CoreV1().ConfigMaps(ns).Apply(ctx, cm, metav1.ApplyOptions{FieldManager: "bootstrap"})
	if err != nil {
		t.Fatal(err)
	}
	if got.Data["a"] != "1" || len(got.ManagedFields) == 0 {
		t.Fatalf("apply create: %+v", got)
	}
	cm.WithData(map[string]string{"a": "2", "b": "3"})
	if got, err = cp.cs.CoreV1().ConfigMaps(ns).Apply(ctx, cm, metav1.ApplyOptions{FieldManager: "bootstrap"}); err != nil || got.Data["a"] != "2" {
		t.Fatalf("re-apply: %v %v", got, err)
	}
	other := applyconfigcorev1.ConfigMap("applied", ns).WithData(map[string]string{"a": "x"})
	if _, err := cp.cs.CoreV1().ConfigMaps(ns).Apply(ctx, other, metav1.ApplyOptions{FieldManager: "someone-else"}); !apierrors.IsConflict(err) {
		t.Fatalf("conflicting apply: want 409, got %v", err)
	}
	// A DaemonSet through apply, with structured fields and defaults.
	ds := map[string]any{
		"apiVersion": "apps/v1", "kind": "DaemonSet", "metadata": map[string]any{"name": "ds", "namespace": ns},
		"spec": podTemplate(),
	}
	body, _ := json.Marshal(ds)
	res, err := cp.cs.AppsV1().DaemonSets(ns).Patch(ctx, "ds", types.ApplyPatchType, body, metav1.PatchOptions{FieldManager: "bootstrap"})
	if err != nil {
		t.Fatal(err)
	}
	if res.Spec.UpdateStrategy.Type != appsv1.RollingUpdateDaemonSetStrategyType || res.Generation != 1 {
		t.Fatalf("applied DaemonSet not defaulted: %+v gen %d", res.Spec.UpdateStrategy, res.Generation)
	}
}

// TestGracefulPodDelete: a scheduled pod is only marked for deletion; the
// kubelet's final delete with grace 0 and a UID precondition removes it.
func TestGracefulPodDelete(t *testing.T) {
	cp := shared
	ctx := context.Background()
	ns := newNamespace(t, cp)
	p, err := cp.cs.CoreV1().Pods(ns).Create(ctx, pod("p", "n1"), metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if err := cp.cs.CoreV1().Pods(ns).Delete(ctx, "p", metav1.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	got, err := cp.cs.CoreV1().Pods(ns).Get(ctx, "p", metav1.GetOptions{})
	if err != nil {
		t.Fatalf("pod gone after graceful delete: %v", err)
	}
	if got.DeletionTimestamp == nil || ptr.Deref(got.DeletionGracePeriodSeconds, 0) != 30 {
		t.Fatalf("deletionTimestamp %v grace %v", got.DeletionTimestamp, got.DeletionGracePeriodSeconds)
	}
	wrong := types.UID("00000000-0000-0000-0000-000000000000")
	err = cp.cs.CoreV1().Pods(ns).Delete(ctx, "p", metav1.DeleteOptions{GracePeriodSeconds: ptr.To[int64](0), Preconditions: &metav1.Preconditions{UID: &wrong}})
	if !apierrors.IsConflict(err) {
		t.Fatalf("delete with a wrong UID precondition: want 409, got %v", err)
	}
	err = cp.cs.CoreV1().Pods(ns).Delete(ctx, "p", metav1.DeleteOptions{GracePeriodSeconds: ptr.To[int64](0), Preconditions: &metav1.Preconditions{UID: &p.UID}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := cp.cs.CoreV1().Pods(ns).Get(ctx, "p", metav1.GetOptions{}); !apierrors.IsNotFound(err) {
		t.Fatalf("pod still there: %v", err)
	}
	// An unscheduled pod goes at once.
	if _, err := cp.cs.CoreV1().Pods(ns).Create(ctx, pod("u", ""), metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	if err := cp.cs.CoreV1().Pods(ns).Delete(ctx, "u", metav1.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	if _, err := cp.cs.CoreV1().Pods(ns).Get(ctx, "u", metav1.GetOptions{}); !apierrors.IsNotFound(err) {
		t.Fatalf("unscheduled pod still there: %v", err)
	}
}

// TestPodBinding: the scheduler's pods/binding, as kube serves it.
func TestPodBinding(t *testing.T) {
	cp := shared
	ctx := context.Background()
	ns := newNamespace(t, cp)
	p, err := cp.cs.CoreV1().Pods(ns).Create(ctx, pod("unbound", ""), metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	c, k := clientCert(t, assets.Path(cp.assetDir, assets.CACert), assets.Path(cp.assetDir, assets.CAKey), assets.SchedulerUser)
	sched := clientFor(t, cp, c, k)
	b := &corev1.Binding{ObjectMeta: metav1.ObjectMeta{Name: "unbound", UID: p.UID}, Target: corev1.ObjectReference{Kind: "Node", Name: "n1"}}
	if err := sched.CoreV1().Pods(ns).Bind(ctx, b, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	got, err := cp.cs.CoreV1().Pods(ns).Get(ctx, "unbound", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	scheduled := false
	for _, c := range got.Status.Conditions {
		scheduled = scheduled || (c.Type == corev1.PodScheduled && c.Status == corev1.ConditionTrue)
	}
	if got.Spec.NodeName != "n1" || !scheduled {
		t.Fatalf("after binding: node %q conditions %+v", got.Spec.NodeName, got.Status.Conditions)
	}
	b.Target.Name = "n2"
	if err := sched.CoreV1().Pods(ns).Bind(ctx, b, metav1.CreateOptions{}); !apierrors.IsConflict(err) {
		t.Fatalf("second binding: want 409, got %v", err)
	}
}
