package start

import (
	"context"
	"strings"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	coordinationv1 "k8s.io/api/coordination/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"

	"github.com/bootstrap-k8s/bootstrap/internal/testcontrolplane"
	"github.com/bootstrap-k8s/bootstrap/pkg/assets"
)

// TestReleaseStaleLeases: a recovery deletes a lease only when its holder
// provably stopped leading (not renewed for longer than the lease duration)
// or does not run (nothing listens on its port here), and no other
// control-plane node could hold it; on a real apiserver.
func TestReleaseStaleLeases(t *testing.T) {
	cp := testcontrolplane.Start(t)
	ctx := context.Background()
	now := time.Now()
	for _, tc := range []struct {
		name        string
		renewedAgo  time.Duration // 0: no holder
		otherCPNode bool
		notRunning  bool // nothing listens on the component's port here
		wantDeleted bool
		wantSaid    string
	}{
		{"stale, only control-plane node", 3 * time.Minute, false, false, true, "released"},
		{"renewed within its duration", 5 * time.Second, false, false, false, "released in 10s unless renewed"},
		{"renewed within its duration, holder not running", 5 * time.Second, false, true, true, "but nothing listens"},
		{"stale but another control-plane node exists", 3 * time.Minute, true, false, false, "node2 is a control-plane node too"},
		{"not running but another control-plane node exists", 5 * time.Second, true, true, false, "kept"},
		{"no holder", 0, false, true, false, "no holder"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cleanNodes(t, cp)
			mkNode(t, cp, testcontrolplane.NodeName, true)
			mkNode(t, cp, "worker1", false)
			if tc.otherCPNode {
				mkNode(t, cp, "node2", true)
			}
			leases := cp.Client.CoordinationV1().Leases(assets.KubeSystem)
			for _, name := range staleLeaseNames {
				_ = leases.Delete(ctx, name, metav1.DeleteOptions{})
				l := &coordinationv1.Lease{ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: assets.KubeSystem},
					Spec: coordinationv1.LeaseSpec{LeaseDurationSeconds: ptr.To[int32](15)}}
				if tc.renewedAgo > 0 {
					l.Spec.HolderIdentity = ptr.To("node1_dead")
					l.Spec.RenewTime = &metav1.MicroTime{Time: now.Add(-tc.renewedAgo)}
				}
				if _, err := leases.Create(ctx, l, metav1.CreateOptions{}); err != nil {
					t.Fatal(err)
				}
			}
			runs := func(_ context.Context, name string) (bool, string) {
				return !tc.notRunning, "nothing listens on the port of " + name
			}
			said, pending, err := releaseStaleLeases(ctx, cp.Client, testcontrolplane.NodeName, now, runs)
			if err != nil {
				t.Fatal(err)
			}
			if wantPending := tc.name == "renewed within its duration"; (len(pending) == len(staleLeaseNames)) != wantPending {
				t.Errorf("%d leases pending, want pending=%v", len(pending), wantPending)
			}
			if len(said) != len(staleLeaseNames) {
				t.Fatalf("said %q: want one line per lease", said)
			}
			for i, name := range staleLeaseNames {
				if !strings.Contains(said[i], tc.wantSaid) {
					t.Errorf("said %q, want it to contain %q", said[i], tc.wantSaid)
				}
				_, err := leases.Get(ctx, name, metav1.GetOptions{})
				if deleted := apierrors.IsNotFound(err); deleted != tc.wantDeleted {
					t.Errorf("lease %s deleted=%v, want %v (err %v)", name, deleted, tc.wantDeleted, err)
				}
			}
		})
	}
}

func mkNode(t *testing.T, cp *testcontrolplane.ControlPlane, name string, controlPlane bool) {
	t.Helper()
	n := &corev1.Node{ObjectMeta: metav1.ObjectMeta{Name: name, Labels: map[string]string{}}}
	if controlPlane {
		n.Labels[assets.ControlPlaneNodeLabel] = ""
	}
	if _, err := cp.Client.CoreV1().Nodes().Create(context.Background(), n, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
}

func cleanNodes(t *testing.T, cp *testcontrolplane.ControlPlane) {
	t.Helper()
	if err := cp.Client.CoreV1().Nodes().DeleteCollection(context.Background(), metav1.DeleteOptions{}, metav1.ListOptions{}); err != nil {
		t.Fatal(err)
	}
}

// TestReleaseWhenStale: a pending lease is deleted once its duration has
// passed since its renewal, unless its holder renewed it meanwhile.
func TestReleaseWhenStale(t *testing.T) {
	cp := testcontrolplane.Start(t)
	ctx := context.Background()
	cleanNodes(t, cp)
	mkNode(t, cp, testcontrolplane.NodeName, true)
	leases := cp.Client.CoordinationV1().Leases(assets.KubeSystem)
	for _, name := range staleLeaseNames {
		_ = leases.Delete(ctx, name, metav1.DeleteOptions{})
		l := &coordinationv1.Lease{ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: assets.KubeSystem},
			Spec: coordinationv1.LeaseSpec{LeaseDurationSeconds: ptr.To[int32](2), HolderIdentity: ptr.To("node1_old"),
				RenewTime: &metav1.MicroTime{Time: time.Now().Add(-time.Second)}}}
		if _, err := leases.Create(ctx, l, metav1.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	begin := time.Now()
	busy := func(context.Context, string) (bool, string) { return true, "port busy" }
	_, pending, err := releaseStaleLeases(ctx, cp.Client, testcontrolplane.NodeName, begin, busy)
	if err != nil || len(pending) != 2 {
		t.Fatalf("pending %d, err %v; want both leases pending", len(pending), err)
	}
	// The scheduler's holder lives: it renews before the release.
	renewed := pending[1].lease.DeepCopy()
	renewed.Spec.RenewTime = &metav1.MicroTime{Time: time.Now()}
	if _, err := leases.Update(ctx, renewed, metav1.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}
	said := releaseWhenStale(ctx, cp.Client, pending)
	if took := time.Since(begin); took < 900*time.Millisecond || took > 5*time.Second {
		t.Errorf("released after %s, want about 1 s (renewed 1 s before a 2 s duration)", took)
	}
	if len(said) != 2 || !strings.Contains(said[0], "released") || !strings.Contains(said[1], "kept") {
		t.Errorf("said %q: want the first released, the renewed one kept", said)
	}
	if _, err := leases.Get(ctx, staleLeaseNames[0], metav1.GetOptions{}); !apierrors.IsNotFound(err) {
		t.Errorf("lease %s still there (%v)", staleLeaseNames[0], err)
	}
	if _, err := leases.Get(ctx, staleLeaseNames[1], metav1.GetOptions{}); err != nil {
		t.Errorf("renewed lease %s gone: %v", staleLeaseNames[1], err)
	}
}

func TestSecurePort(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want int
	}{
		{nil, 10257},
		{[]string{"--bind-address=127.0.0.1", "--secure-port=10300"}, 10300},
		{[]string{"--secure-port=zero"}, 10257},
	} {
		d := &appsv1.Deployment{}
		d.Spec.Template.Spec.Containers = []corev1.Container{{Command: []string{"kube-controller-manager"}, Args: tc.args}}
		if got := securePort(d, 10257); got != tc.want {
			t.Errorf("securePort(%q) = %d, want %d", tc.args, got, tc.want)
		}
	}
	if got := securePort(&appsv1.Deployment{}, 10259); got != 10259 {
		t.Errorf("no containers: %d, want the default", got)
	}
}
