package tempcontrolplane

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/kubernetes"
)

// shared is one control plane for the tests that do not need their own; each
// test works in its own namespace or with unique names.
var shared *testCP

func TestMain(m *testing.M) {
	os.Exit(runMain(m))
}

func runMain(m *testing.M) int {
	tmp, err := os.MkdirTemp("", "tempcp-test-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer os.RemoveAll(tmp)
	tb := &mainTB{dir: tmp}
	dir, _ := renderAssets(tb)
	cfg := testConfig(tb, dir)
	cp, err := New(cfg)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	if err := cp.Start(ctx); err != nil {
		fmt.Fprintln(os.Stderr, "starting the shared control plane:", err)
		return 1
	}
	defer cp.Stop()
	admin := cp.AdminConfig()
	shared = &testCP{ControlPlane: cp, cfg: cfg, assetDir: dir, admin: admin,
		cs: kubernetes.NewForConfigOrDie(admin), dyn: dynamic.NewForConfigOrDie(admin)}
	return m.Run()
}

// mainTB is the little of testing.TB the helpers use, for TestMain.
type mainTB struct {
	testing.TB
	dir string
	n   int
}

func (t *mainTB) Helper() {}
func (t *mainTB) TempDir() string {
	t.n++
	d := filepath.Join(t.dir, fmt.Sprint(t.n))
	if err := os.MkdirAll(d, 0o700); err != nil {
		panic(err)
	}
	return d
}
func (t *mainTB) Fatal(args ...any)                 { panic(fmt.Sprint(args...)) }
func (t *mainTB) Fatalf(format string, args ...any) { panic(fmt.Sprintf(format, args...)) }
