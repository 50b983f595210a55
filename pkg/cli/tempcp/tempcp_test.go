package tempcp

import (
	"bytes"
	"context"
	"net"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/clientcmd"

	"github.com/bootstrap-k8s/bootstrap/pkg/apis/bootstrap/v1alpha1"
	"github.com/bootstrap-k8s/bootstrap/pkg/assets"
	"github.com/bootstrap-k8s/bootstrap/pkg/cli/configflags"
	"github.com/bootstrap-k8s/bootstrap/pkg/cli/global"
	"github.com/bootstrap-k8s/bootstrap/pkg/ui"
)

func freePort(t *testing.T) int32 {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return int32(l.Addr().(*net.TCPAddr).Port)
}

// hostIP is a non-loopback address of this machine: the configuration
// refuses a loopback advertise address.
func hostIP(t *testing.T) string {
	addrs, err := net.InterfaceAddrs()
	if err != nil {
		t.Fatal(err)
	}
	for _, a := range addrs {
		if n, ok := a.(*net.IPNet); ok && n.IP.To4() != nil && !n.IP.IsLoopback() && !n.IP.IsLinkLocalUnicast() {
			return n.IP.String()
		}
	}
	t.Skip("no non-loopback IPv4 address on this machine")
	return ""
}

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}
func (s *syncBuffer) String() string { s.mu.Lock(); defer s.mu.Unlock(); return s.b.String() }

// TestRun renders an asset dir on random ports, runs the command's Run until
// ready, talks to it with the admin kubeconfig and stops it by cancelling.
func TestRun(t *testing.T) {
	c := &v1alpha1.BootstrapConfiguration{}
	c.APIServer.AdvertiseAddress = hostIP(t)
	c.APIServer.BindPort = freePort(t)
	c.Node.Name = "node1"
	c.Etcd.Local = &v1alpha1.LocalEtcd{BootClientPort: freePort(t), BootPeerPort: freePort(t)}
	v1alpha1.SetDefaults(c)
	dir := filepath.Join(t.TempDir(), "assets")
	if _, err := assets.Render(c, dir, assets.Options{}); err != nil {
		t.Fatal(err)
	}
	var errOut syncBuffer
	p := ui.New(&bytes.Buffer{}, &errOut, 0)
	flags := &configflags.Flags{File: assets.Path(dir, assets.ConfigFile)}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		done <- Run(ctx, p, flags, Options{AssetDir: dir, EtcdDataDir: filepath.Join(t.TempDir(), "etcd"), Timeout: time.Minute})
	}()
	deadline := time.Now().Add(60 * time.Second)
	for !strings.Contains(errOut.String(), "ready in") {
		select {
		case err := <-done:
			t.Fatalf("Run returned early: %v\n%s", err, errOut.String())
		case <-time.After(20 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			t.Fatalf("not ready:\n%s", errOut.String())
		}
	}
	out := errOut.String()
	if !strings.Contains(out, "[temp-control-plane] ready in ") || !strings.Contains(out, assets.Path(dir, assets.AdminKubeconfig)) {
		t.Errorf("output:\n%s", out)
	}
	cfg, err := clientcmd.BuildConfigFromFlags("", assets.Path(dir, assets.AdminKubeconfig))
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Host != "https://"+net.JoinHostPort(c.APIServer.AdvertiseAddress, itoa(c.APIServer.BindPort)) {
		t.Fatalf("admin kubeconfig points at %s", cfg.Host)
	}
	cs := kubernetes.NewForConfigOrDie(cfg)
	if _, err := cs.CoreV1().Namespaces().Get(ctx, "kube-system", metav1.GetOptions{}); err != nil {
		t.Fatalf("admin kubeconfig as rendered: %v", err)
	}
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Run did not return after cancel")
	}
}

func TestAssetDirRequired(t *testing.T) {
	var out, errOut bytes.Buffer
	cmd := NewCommand(&global.Options{Out: &out, Err: &errOut})
	cmd.SetArgs([]string{})
	cmd.SetOut(&out)
	cmd.SetErr(&errOut)
	err := cmd.Execute()
	if err == nil || !strings.Contains(err.Error(), "--asset-dir") {
		t.Fatalf("got %v", err)
	}
}

func itoa(i int32) string { return strconv.Itoa(int(i)) }
