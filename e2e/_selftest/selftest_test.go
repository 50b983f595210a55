//go:build e2e

package selftest

import (
	"context"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/bootstrap-k8s/bootstrap/e2e/framework"
)

func TestHarnessSelfTest(t *testing.T) {
	node := framework.StartNode(t, framework.NodeOptions{})
	assetDir := node.Render(t)
	etcd := framework.StartEtcd(t, node, framework.EtcdOptions{AssetDir: assetDir})
	api := framework.StartKubeAPIServer(t, node, framework.KubeAPIServerOptions{AssetDir: assetDir, EtcdServers: etcd.ClientURL, Port: 6443})
	cs := framework.MustClient(t, api.Kubeconfig)
	framework.WaitAPIServer(t, "real apiserver", cs, time.Minute)
	node.StartKubelet(t, assetDir)
	framework.WaitNodeReady(t, cs, node.Name, time.Minute)
	ctx := context.Background()
	framework.WaitT(t, "sa", 30*time.Second, func(ctx context.Context) (bool, string, error) {
		_, err := cs.CoreV1().ServiceAccounts("default").Create(ctx, &corev1.ServiceAccount{ObjectMeta: metav1.ObjectMeta{Name: "default"}}, metav1.CreateOptions{})
		return err == nil, "", err
	})
	p := framework.HostNetworkPod("default", "selftest", node.Name, 18080)
	if _, err := cs.CoreV1().Pods("default").Create(ctx, p, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	framework.WaitPodRunningReady(t, cs, "default", "selftest", time.Minute)
	if t.Name() == "x" {
		t.Fatal("never")
	}
}

func TestHarnessOnHost(t *testing.T) {
	node := framework.StartNode(t, framework.NodeOptions{})
	assetDir := node.Render(t)
	etcd := framework.StartEtcd(t, node, framework.EtcdOptions{AssetDir: assetDir, OnHost: true})
	api := framework.StartKubeAPIServer(t, node, framework.KubeAPIServerOptions{AssetDir: assetDir, EtcdServers: etcd.ClientURL, OnHost: true})
	cs := framework.MustClient(t, api.Kubeconfig)
	framework.WaitAPIServer(t, "real apiserver on host", cs, time.Minute)
	v, err := cs.Discovery().ServerVersion()
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("%s at %s", v.GitVersion, api.URL)
}
