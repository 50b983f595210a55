package assets

import (
	"flag"
	"io/fs"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/bootstrap-k8s/bootstrap/pkg/apis/bootstrap/v1alpha1"
)

var update = flag.Bool("update", false, "rewrite testdata/golden (and create testdata/fixture if missing)")

// testNow pins the clock so that validity checks and the bootstrap token's
// expiry are the same on every run.
var testNow = time.Date(2026, 11, 1, 12, 0, 0, 0, time.UTC)

func testOptions() Options { return Options{Now: func() time.Time { return testNow }} }

func testConfig(t testing.TB) *v1alpha1.BootstrapConfiguration {
	t.Helper()
	c, err := v1alpha1.Load("testdata/cluster.yaml")
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// renderFresh renders testConfig into a new temporary directory.
func renderFresh(t testing.TB) (string, *Result) {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "assets")
	res, err := Render(testConfig(t), dir, testOptions())
	if err != nil {
		t.Fatal(err)
	}
	return dir, res
}

// copyTree copies src into dst, keeping modes.
func copyTree(t testing.TB, src, dst string) {
	t.Helper()
	err := filepath.WalkDir(src, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(src, p)
		target := filepath.Join(dst, rel)
		info, err := d.Info()
		if err != nil {
			return err
		}
		if d.IsDir() {
			return os.MkdirAll(target, info.Mode().Perm())
		}
		data, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		return os.WriteFile(target, data, info.Mode().Perm())
	})
	if err != nil {
		t.Fatal(err)
	}
}
