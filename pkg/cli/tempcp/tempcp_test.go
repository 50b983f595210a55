package tempcp

import (
	"bytes"
	"context"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/clientcmd"

	"github.com/bootstrap-k8s/bootstrap/internal/testetcd"
	"github.com/bootstrap-k8s/bootstrap/pkg/apis/bootstrap/v1alpha1"
	"github.com/bootstrap-k8s/bootstrap/pkg/assets"
	"github.com/bootstrap-k8s/bootstrap/pkg/cli/configflags"
	"github.com/bootstrap-k8s/bootstrap/pkg/cli/global"
	"github.com/bootstrap-k8s/bootstrap/pkg/failure"
	"github.com/bootstrap-k8s/bootstrap/pkg/ui"
)

func freePort(t *testing.T) int32 { return int32(testetcd.FreePort(t)) }

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
	c, dir := renderOnFreePorts(t)
	var errOut syncBuffer
	ctx, cancel := context.WithCancel(context.Background())
	done := runUntilReady(t, ctx, &errOut, Options{AssetDir: dir, EtcdDataDir: filepath.Join(t.TempDir(), "etcd"), Timeout: time.Minute})
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

// renderOnFreePorts renders an asset dir for this machine's address on
// free ports.
func renderOnFreePorts(t *testing.T) (*v1alpha1.BootstrapConfiguration, string) {
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
	return c, dir
}

// runUntilReady runs the command's Run in the background until it says it
// is ready; the channel gets Run's result once ctx ends.
func runUntilReady(t *testing.T, ctx context.Context, errOut *syncBuffer, o Options) chan error {
	t.Helper()
	p := ui.New(&bytes.Buffer{}, errOut, 0)
	flags := &configflags.Flags{File: assets.Path(o.AssetDir, assets.ConfigFile)}
	done := make(chan error, 1)
	go func() { done <- Run(ctx, p, flags, o) }()
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
	return done
}

// TestRefusesAPortAnotherProcessHolds is issue 17 item 4: a listener with
// SO_REUSEPORT on the apiserver port (what a running kube-apiserver with
// --permit-port-sharing is) makes the command refuse with exit 2, naming
// the holder, before anything starts; --allow-port-sharing lets it share.
func TestRefusesAPortAnotherProcessHolds(t *testing.T) {
	c, dir := renderOnFreePorts(t)
	addr := net.JoinHostPort(c.APIServer.AdvertiseAddress, itoa(c.APIServer.BindPort))
	lc := net.ListenConfig{Control: func(_, _ string, rc syscall.RawConn) error {
		var serr error
		rc.Control(func(fd uintptr) { serr = unix.SetsockoptInt(int(fd), unix.SOL_SOCKET, unix.SO_REUSEPORT, 1) })
		return serr
	}}
	l, err := lc.Listen(context.Background(), "tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()

	etcdDir := filepath.Join(t.TempDir(), "etcd")
	var errOut syncBuffer
	p := ui.New(&bytes.Buffer{}, &errOut, 0)
	flags := &configflags.Flags{File: assets.Path(dir, assets.ConfigFile)}
	err = Run(context.Background(), p, flags, Options{AssetDir: dir, EtcdDataDir: etcdDir, Timeout: time.Minute})
	if !failure.IsPreflight(err) {
		t.Fatalf("Run with the port held: %v, want a preflight failure", err)
	}
	for _, want := range []string{addr + " is held by", fmt.Sprintf("(pid %d)", os.Getpid()), "--allow-port-sharing", "nothing was started"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error does not say %q: %v", want, err)
		}
	}
	if _, err := os.Stat(etcdDir); err == nil {
		t.Error("a refused run created the etcd data dir")
	}

	// With the flag the check lets it through and warns. (Not a full run:
	// this test's listener would take a share of the apiserver's own
	// loopback connections and never answer them.)
	errOut = syncBuffer{}
	if err := checkPort(p, c.APIServer.AdvertiseAddress, int(c.APIServer.BindPort), true); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(errOut.String(), "WARNING sharing the apiserver port "+addr) {
		t.Errorf("no warning:\n%s", errOut.String())
	}
	l.Close()
	if err := checkPort(p, c.APIServer.AdvertiseAddress, int(c.APIServer.BindPort), false); err != nil {
		t.Errorf("a free port: %v", err)
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
