//go:build e2e

package e2e

import (
	"context"
	"fmt"
	"os"
	"strings"
	"syscall"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/bootstrap-k8s/bootstrap/e2e/framework"
	"github.com/bootstrap-k8s/bootstrap/pkg/assets"
	"github.com/bootstrap-k8s/bootstrap/pkg/etcdutil"
	"github.com/bootstrap-k8s/bootstrap/pkg/tempcontrolplane"
)

// TestStartConvergesAfterKill: `bootstrap start` killed with SIGKILL at a
// phase, then run again, must bring the control plane up all the same.
func TestStartConvergesAfterKill(t *testing.T) {
	cases := []struct{ name, marker string }{
		{"after-apply", "[apply] Done"},
		{"during-etcd-move", "[etcd] Installed"},
		{"after-placement", "[apiserver] Done"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			node := framework.StartNode(t, framework.NodeOptions{})
			assetDir := node.Render(t)
			node.StartKubelet(t, assetDir)
			p := node.Start(t, "bootstrap-start-killed", framework.BootstrapBinary(t), "start", "--asset-dir", assetDir)
			framework.WaitT(t, "start to reach "+tc.marker, 5*time.Minute, func(context.Context) (bool, string, error) {
				if done, err := p.Exited(); done {
					return false, "", fmt.Errorf("start exited before %q: %v\n%s", tc.marker, err, p.Tail(30))
				}
				data, _ := os.ReadFile(p.LogPath)
				return strings.Contains(string(data), tc.marker), p.Tail(2), nil
			})
			if err := syscall.Kill(p.Pid(), syscall.SIGKILL); err != nil {
				t.Fatalf("kill -9 %d: %v", p.Pid(), err)
			}
			framework.WaitT(t, "the killed start to be gone", 30*time.Second, func(context.Context) (bool, string, error) {
				done, _ := p.Exited()
				return done, "", nil
			})
			t.Logf("killed start at %q", tc.marker)

			if _, err := runStart(t, node, assetDir, 10*time.Minute); err != nil {
				t.Fatalf("re-running start after kill -9 %s: %v", tc.name, err)
			}
			cs := framework.MustClient(t, assets.Path(assetDir, assets.AdminKubeconfig))
			if v, err := cs.Discovery().ServerVersion(); err != nil || tempcontrolplane.IsTemporary(v) {
				t.Errorf("/version = %+v, %v; want the self-hosted kube-apiserver", v, err)
			}
			ctx := context.Background()
			cli, err := etcdutil.New(assetDir, "https://"+node.IP+":2379")
			if err != nil {
				t.Fatal(err)
			}
			defer cli.Close()
			members, err := cli.MemberList(ctx)
			if err != nil || len(members.Members) != 1 || members.Members[0].Name != node.Name {
				t.Errorf("etcd members %v, %v; want %s alone", members, err, node.Name)
			}
			// start exits once kube-apiserver answered its /readyz probes;
			// the kubelet's Ready follows at its next startup probe (1 s).
			framework.WaitT(t, "every kube-apiserver pod Ready", 30*time.Second, func(ctx context.Context) (bool, string, error) {
				pods, err := cs.CoreV1().Pods(assets.KubeSystem).List(ctx, metav1.ListOptions{LabelSelector: assets.ComponentLabel + "=" + assets.KubeAPIServer})
				if err != nil {
					return false, err.Error(), nil
				}
				for _, pod := range pods.Items {
					if pod.DeletionTimestamp == nil && !ready(&pod) {
						return false, "kube-apiserver pod " + pod.Name + " not ready: " + framework.PodSummary(&pod), nil
					}
				}
				return len(pods.Items) > 0, fmt.Sprintf("%d pods", len(pods.Items)), nil
			})
		})
	}
}
