package cli

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"k8s.io/klog/v2"
)

// TestKlogQuietAtDefaultVerbosity: at -v 0 the libraries' info lines and
// warnings (the noise every start printed) stay off stderr and errors do
// not; at -v 4 everything prints.
func TestKlogQuietAtDefaultVerbosity(t *testing.T) {
	capture := func(v int) string {
		f, err := os.Create(filepath.Join(t.TempDir(), "stderr"))
		if err != nil {
			t.Fatal(err)
		}
		saved := os.Stderr
		os.Stderr = f
		defer func() { os.Stderr = saved }()
		if err := initKlog(v); err != nil {
			t.Fatal(err)
		}
		klog.Info("an info line")
		klog.Warning("a warning")
		klog.Error("an error")
		klog.Flush()
		f.Close()
		data, _ := os.ReadFile(f.Name())
		return string(data)
	}
	defer initKlog(0)
	quiet := capture(0)
	if strings.Contains(quiet, "an info line") || strings.Contains(quiet, "a warning") || !strings.Contains(quiet, "an error") {
		t.Errorf("-v 0 printed:\n%s", quiet)
	}
	if mid := capture(1); strings.Contains(mid, "an info line") || !strings.Contains(mid, "a warning") {
		t.Errorf("-v 1 printed:\n%s", mid)
	}
	if loud := capture(4); !strings.Contains(loud, "an info line") || !strings.Contains(loud, "a warning") {
		t.Errorf("-v 4 printed:\n%s", loud)
	}
}
