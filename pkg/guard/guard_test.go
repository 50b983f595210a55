package guard

import (
	"context"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	coordinationv1 "k8s.io/api/coordination/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/utils/ptr"

	"github.com/bootstrap-k8s/bootstrap/internal/testetcd"
	"github.com/bootstrap-k8s/bootstrap/pkg/apis/bootstrap/v1alpha1"
	"github.com/bootstrap-k8s/bootstrap/pkg/assets"
	"github.com/bootstrap-k8s/bootstrap/pkg/tempcontrolplane"
)

func TestWatchDecides(t *testing.T) {
	o := Options{}
	o.defaults()
	t0 := time.Unix(1000, 0)
	down := state{down: true, detail: "connection refused"}
	starting := state{detail: "503"}
	serving := state{serving: true}
	stuck := state{serving: true, stuck: "kube-scheduler lease not held"}
	for _, tc := range []struct {
		name  string
		seq   []state // one probe a second
		want  string  // substring of the reason at the last probe; "" none
		never bool
	}{
		{"a boot: down since the guard started", []state{down}, "since the guard started", false},
		{"down for 3 s", []state{serving, down, down, down, down}, "no kube-apiserver has listened", false},
		{"down 2 s only", []state{serving, down, down, down}, "", true},
		{"a blip of down does not add up", []state{serving, down, down, serving, down, down, down}, "", true},
		{"starting apiserver is left alone", []state{starting, down, starting, starting, starting, starting, starting}, "", true},
		{"stuck for 45 s", repeat(stuck, 46), "kube-scheduler lease not held", false},
		{"stuck 30 s then fine", append(repeat(stuck, 30), serving, stuck), "", true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var w watch
			got := ""
			for i, st := range tc.seq {
				got = w.observe(st, t0.Add(time.Duration(i)*time.Second), o)
				if got != "" && i < len(tc.seq)-1 {
					t.Fatalf("recovered at probe %d (%q), before the end of the sequence", i, got)
				}
			}
			if tc.never && got != "" {
				t.Fatalf("recover %q, want none", got)
			}
			if !tc.never && !strings.Contains(got, tc.want) {
				t.Fatalf("reason %q, want it to say %q", got, tc.want)
			}
		})
	}
}

func repeat(s state, n int) []state {
	out := make([]state, n)
	for i := range out {
		out[i] = s
	}
	return out
}

// TestProberAgainstARealAPIServer probes the in-process temporary
// apiserver the way the guard probes kube-apiserver on loopback.
func TestProberAgainstARealAPIServer(t *testing.T) {
	port := testetcd.FreePort(t)
	cfg := &v1alpha1.BootstrapConfiguration{}
	cfg.APIServer.AdvertiseAddress = "127.0.0.1"
	cfg.APIServer.BindPort = int32(port)
	cfg.Node.Name = "node1"
	v1alpha1.SetDefaults(cfg)
	dir := filepath.Join(t.TempDir(), "assets")
	if _, err := assets.Render(cfg, dir, assets.Options{}); err != nil {
		t.Fatal(err)
	}
	pr, err := newProber(dir, cfg)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	if st := pr.probe(ctx); !st.down {
		t.Fatalf("nothing listens on %s yet, probe says %s", pr.url, st)
	}
	cp, err := tempcontrolplane.New(tempcontrolplane.Config{
		AssetDir: dir, BindAddress: "127.0.0.1", BindPort: port, EtcdName: "node1",
		EtcdDataDir: filepath.Join(t.TempDir(), "etcd"), EtcdClientPort: testetcd.FreePort(t), EtcdPeerPort: testetcd.FreePort(t),
		KubernetesVersion: cfg.KubernetesVersion, ServiceCIDR: cfg.Networking.ServiceCIDR, ReadyTimeout: time.Minute,
	})
	if err != nil {
		t.Fatal(err)
	}
	sctx, cancel := context.WithTimeout(ctx, 90*time.Second)
	defer cancel()
	if err := cp.Start(sctx); err != nil {
		t.Fatal(err)
	}
	stopped := false
	defer func() {
		if !stopped {
			cp.Stop()
		}
	}()
	// Only another node's kube-apiserver behind a control-plane endpoint
	// stops a recovery: not a cluster without one, not a temporary apiserver.
	if how, ok := servedElsewhere(ctx, dir, cfg); ok {
		t.Errorf("no control-plane endpoint, yet served elsewhere: %s", how)
	}
	withEndpoint := *cfg
	withEndpoint.APIServer.ControlPlaneEndpoint = fmt.Sprintf("127.0.0.1:%d", port)
	if how, ok := servedElsewhere(ctx, dir, &withEndpoint); ok {
		t.Errorf("the temporary apiserver counted as another control-plane node: %s", how)
	}
	st := pr.probe(ctx)
	if !st.serving || !strings.Contains(st.stuck, "kube-controller-manager lease") {
		t.Fatalf("an apiserver with no leases: probe says %s; want serving, controller-manager lease missing", st)
	}
	cs := kubernetes.NewForConfigOrDie(cp.AdminConfig())
	lease := func(name string, renewed time.Time) {
		l := &coordinationv1.Lease{ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: assets.KubeSystem},
			Spec: coordinationv1.LeaseSpec{HolderIdentity: ptr.To(name + "-1"), LeaseDurationSeconds: ptr.To[int32](15), RenewTime: &metav1.MicroTime{Time: renewed}}}
		if _, err := cs.CoordinationV1().Leases(assets.KubeSystem).Create(ctx, l, metav1.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	lease(assets.KubeControllerManager, time.Now())
	lease(assets.KubeScheduler, time.Now().Add(-time.Minute))
	if st := pr.probe(ctx); !strings.Contains(st.stuck, "kube-scheduler lease last renewed 1m0s ago") {
		t.Fatalf("a scheduler lease renewed a minute ago: probe says %s", st)
	}
	l, _ := cs.CoordinationV1().Leases(assets.KubeSystem).Get(ctx, assets.KubeScheduler, metav1.GetOptions{})
	l.Spec.RenewTime = &metav1.MicroTime{Time: time.Now()}
	if _, err := cs.CoordinationV1().Leases(assets.KubeSystem).Update(ctx, l, metav1.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}
	if st := pr.probe(ctx); !st.serving || st.stuck != "" {
		t.Fatalf("fresh leases: probe says %s; want serving, nothing stuck", st)
	}
	stopped = true
	if err := cp.Stop(); err != nil {
		t.Fatal(err)
	}
	if st := pr.probe(ctx); !st.down {
		t.Fatalf("apiserver stopped: probe says %s; want down", st)
	}
}
