package cli

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/bootstrap-k8s/bootstrap/internal/testetcd"
	"github.com/bootstrap-k8s/bootstrap/pkg/etcdutil"
)

// TestRecoverPageCorruptedSnapshot is issue 17 item 3 through the command:
// a real snapshot (taken by `bootstrap backup`) with damaged pages in the
// middle and an intact header makes recover exit 1 with the reason, not
// panic (which exited 2, the preflight code).
func TestRecoverPageCorruptedSnapshot(t *testing.T) {
	dir := testetcd.RenderAssets(t)
	m := testetcd.Start(t, dir, testetcd.Member{Name: "node-1"})
	cli, err := etcdutil.New(dir, m.ClientURL)
	if err != nil {
		t.Fatal(err)
	}
	defer cli.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	for i := 0; i < 300; i++ {
		if _, err := cli.Put(ctx, fmt.Sprintf("/registry/configmaps/default/cm-%d", i), strings.Repeat("v", 400)); err != nil {
			t.Fatal(err)
		}
	}
	snap := filepath.Join(t.TempDir(), "snap.db")
	if _, stderr, code := run("backup", "--asset-dir", dir, "--output", snap, "--etcd-endpoints", m.ClientURL); code != 0 {
		t.Fatalf("backup: exit %d: %s", code, stderr)
	}
	data, err := os.ReadFile(snap)
	if err != nil {
		t.Fatal(err)
	}
	const page = 4096
	mid := len(data) / page / 2
	for i := (mid - 1) * page; i < (mid+2)*page; i++ {
		data[i] = 0xff
	}
	bad := filepath.Join(t.TempDir(), "damaged.db")
	os.WriteFile(bad, data, 0o600)

	_, stderr, code := run("recover", "--asset-dir", dir, "--etcd-backup", bad)
	if code != 1 {
		t.Errorf("exit %d, want 1", code)
	}
	if !strings.Contains(stderr, "is not a valid etcd snapshot: its pages are damaged") || strings.Contains(stderr, "goroutine ") {
		t.Errorf("stderr:\n%s", stderr)
	}
}
