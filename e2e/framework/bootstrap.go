//go:build e2e

package framework

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

var bootstrapOnce sync.Once
var bootstrapBin string
var bootstrapErr error

// BootstrapBinary builds ./cmd/bootstrap from this tree (once per test
// process; the Go build cache makes it cheap) and returns its path. With
// BOOTSTRAP_E2E_BOOTSTRAP_BIN set, that prebuilt binary is used instead.
func BootstrapBinary(t testing.TB) string {
	t.Helper()
	bootstrapOnce.Do(func() {
		if b := os.Getenv("BOOTSTRAP_E2E_BOOTSTRAP_BIN"); b != "" {
			bootstrapBin = b
			return
		}
		out := filepath.Join(BinDir(), "bootstrap")
		start := time.Now()
		cmd := exec.Command("go", "build", "-o", out, "./cmd/bootstrap")
		cmd.Dir = RepoRoot()
		cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
		if b, err := cmd.CombinedOutput(); err != nil {
			bootstrapErr = fmt.Errorf("go build ./cmd/bootstrap: %v\n%s", err, b)
			return
		}
		t.Logf("built %s in %s", out, time.Since(start).Round(100*time.Millisecond))
		bootstrapBin = out
	})
	if bootstrapErr != nil {
		t.Fatal(bootstrapErr)
	}
	return bootstrapBin
}

// HasSubcommand reports whether the bootstrap binary knows a subcommand
// (e.g. "temp-control-plane"), for scenarios that depend on work in flight.
func HasSubcommand(t testing.TB, sub string) bool {
	t.Helper()
	out, err := exec.Command(BootstrapBinary(t), sub, "--help").CombinedOutput()
	return err == nil && !strings.Contains(string(out), "unknown command")
}

// AssetDir is where Render writes this node's assets.
func (n *Node) AssetDir() string { return filepath.Join(n.Work, "assets") }

// ConfigYAML is the BootstrapConfiguration the e2e node uses: advertise address
// = node IP, node name, and every host path (static pods, etcd data and
// certificates) under the node's work dir so teardown removes them.
func (n *Node) ConfigYAML() string {
	return fmt.Sprintf(`apiVersion: config.bootstrap.dev/v1alpha1
kind: BootstrapConfiguration
apiServer:
  advertiseAddress: %s
node:
  name: %s
  staticPodPath: %s
etcd:
  local:
    dataDir: %s
    bootDataDir: %s
    certDir: %s
`, n.IP, n.Name, n.StaticPodPath,
		filepath.Join(n.Work, "etcd"), filepath.Join(n.Work, "boot-etcd"), filepath.Join(n.Work, "pki", "etcd"))
}

// Render writes ConfigYAML to the work dir and runs `bootstrap render` into
// AssetDir(). extraFlags are appended (e.g. "--cni=none"). Returns the asset dir.
func (n *Node) Render(t testing.TB, extraFlags ...string) string {
	t.Helper()
	cfg := filepath.Join(n.Work, "cluster.yaml")
	if err := os.MkdirAll(n.Work, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(cfg, []byte(n.ConfigYAML()), 0o644); err != nil {
		t.Fatal(err)
	}
	dir := n.AssetDir()
	args := append([]string{"render", "--config", cfg, "--asset-dir", dir}, extraFlags...)
	start := time.Now()
	out, err := exec.Command(BootstrapBinary(t), args...).CombinedOutput()
	if err != nil {
		t.Fatalf("bootstrap %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	t.Logf("bootstrap render: %s in %s", dir, time.Since(start).Round(10*time.Millisecond))
	n.mu.Lock()
	n.assetDir = dir
	n.mu.Unlock()
	return dir
}
