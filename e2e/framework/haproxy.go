//go:build e2e

package framework

import (
	"bufio"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"
)

// HAProxy is a real load balancer in front of the control-plane nodes'
// kube-apiservers, on the host (as a separate machine on the segment
// would be), in TCP mode: TLS passes through, clients verify the
// control-plane endpoint's certificate. It runs outside every node, so a
// node's power cut does not take it down.
type HAProxy struct {
	Addr    string // host:port clients use (the controlPlaneEndpoint)
	Config  string
	LogPath string
	cmd     *exec.Cmd
	done    chan struct{}
}

// HAProxyBackend is one control-plane node's kube-apiserver.
type HAProxyBackend struct{ Name, Addr string }

// HAProxyOptions: where it listens, its backends, and the health check's
// identity. The check is kube-apiserver's readiness (GET /readyz over TLS
// with a client certificate of the cluster CA: anonymous requests are
// refused), every 500 ms, down after 2 failures, up after 2 successes; a
// server marked down has its sessions shut, so long-lived client
// connections (HTTP/2, watches) to a dead node end at once instead of
// hanging until the clients' own keep-alive notices (30 s and more).
type HAProxyOptions struct {
	Bind     string // host:port
	Backends []HAProxyBackend
	// CAFile verifies the backends' serving certificate (its DNS name
	// "kubernetes"); CheckCertKey is a PEM file with the check's client
	// certificate and key.
	CAFile, CheckCertKey string
	Dir                  string // config and log
}

// StartHAProxy writes the configuration and starts haproxy in the
// foreground (stopped at the test's end).
func StartHAProxy(t testing.TB, o HAProxyOptions) *HAProxy {
	t.Helper()
	bin, err := exec.LookPath("haproxy")
	if err != nil {
		t.Fatalf("no haproxy binary: hack/lib/e2e-setup.sh installs Debian's package (make e2e does): %v", err)
	}
	if err := os.MkdirAll(o.Dir, 0o755); err != nil {
		t.Fatal(err)
	}
	h := &HAProxy{Addr: o.Bind, Config: filepath.Join(o.Dir, "haproxy.cfg"), LogPath: filepath.Join(o.Dir, "haproxy.log"), done: make(chan struct{})}
	if err := os.WriteFile(h.Config, []byte(haproxyConfig(o)), 0o644); err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command(bin, "-c", "-f", h.Config).CombinedOutput(); err != nil {
		t.Fatalf("haproxy -c -f %s: %v\n%s", h.Config, err, out)
	}
	lf, err := os.Create(h.LogPath)
	if err != nil {
		t.Fatal(err)
	}
	defer lf.Close()
	h.cmd = exec.Command(bin, "-db", "-f", h.Config)
	h.cmd.Stdout, h.cmd.Stderr = lf, lf
	h.cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true}
	if err := h.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { _ = h.cmd.Wait(); close(h.done) }()
	t.Cleanup(func() {
		_ = h.cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-h.done:
		case <-time.After(5 * time.Second):
			_ = h.cmd.Process.Kill()
			<-h.done
		}
		if t.Failed() {
			copyFile(h.LogPath, filepath.Join(ArtifactDir(t), "haproxy.log"))
			copyFile(h.Config, filepath.Join(ArtifactDir(t), "haproxy.cfg"))
		}
	})
	t.Logf("haproxy: listening on %s (pid %d, log %s)", o.Bind, h.cmd.Process.Pid, h.LogPath)
	return h
}

func haproxyConfig(o HAProxyOptions) string {
	var b strings.Builder
	fmt.Fprintf(&b, `global
    log stderr format iso local0
    maxconn 4000
defaults
    log global
    mode tcp
    option tcplog
    option log-health-checks
    timeout connect 2s
    timeout client 1h
    timeout server 1h
frontend kube-apiserver
    bind %s
    default_backend kube-apiservers
backend kube-apiservers
    option httpchk GET /readyz
    http-check expect status 200
    default-server check check-ssl verify required verifyhost kubernetes ca-file %s crt %s inter 500ms fall 2 rise 2 on-marked-down shutdown-sessions
`, o.Bind, o.CAFile, o.CheckCertKey)
	for _, s := range o.Backends {
		fmt.Fprintf(&b, "    server %s %s\n", s.Name, s.Addr)
	}
	return b.String()
}

// haproxyTransition is a log line of a check changing a server's state,
// e.g. `... Server kube-apiservers/bsmn1 is DOWN, reason: ...`.
var haproxyTransition = regexp.MustCompile(`^(\S+) .*Server kube-apiservers/(\S+) is (UP|DOWN)`)

// Transitions are the servers' state changes logged so far, in order.
func (h *HAProxy) Transitions() []HAProxyTransition {
	f, err := os.Open(h.LogPath)
	if err != nil {
		return nil
	}
	defer f.Close()
	var out []HAProxyTransition
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		m := haproxyTransition.FindStringSubmatch(sc.Text())
		if m == nil {
			continue
		}
		at, err := time.Parse(time.RFC3339Nano, m[1])
		if err != nil {
			continue
		}
		out = append(out, HAProxyTransition{At: at, Server: m[2], Up: m[3] == "UP", Line: sc.Text()})
	}
	return out
}

// HAProxyTransition is one server going UP or DOWN.
type HAProxyTransition struct {
	At     time.Time
	Server string
	Up     bool
	Line   string
}

// WaitServer waits until the check has marked server up (or down) after
// since, and returns when the log says it did.
func (h *HAProxy) WaitServer(t testing.TB, server string, up bool, since time.Time, timeout time.Duration) time.Time {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		for _, tr := range h.Transitions() {
			if tr.Server == server && tr.Up == up && !tr.At.Before(since) {
				return tr.At
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("haproxy did not mark %s %s within %s; its log:\n%s", server, map[bool]string{true: "UP", false: "DOWN"}[up], timeout, tailFile(h.LogPath, 30))
		}
		time.Sleep(100 * time.Millisecond)
	}
}
