package cli

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/bootstrap-k8s/bootstrap/internal/testetcd"
)

// TestRecoverPageCorruptedSnapshot is issue 17 item 3 through the command:
// a real snapshot (taken by `bootstrap backup`) with damaged pages in the
// middle and an intact header makes recover exit 1 with the reason, not
// panic (which exited 2, the preflight code).
func TestRecoverPageCorruptedSnapshot(t *testing.T) {
	dir, m := testetcd.Filled(t, 300, 400)
	snap := filepath.Join(t.TempDir(), "snap.db")
	if _, stderr, code := run("backup", "--asset-dir", dir, "--output", snap, "--etcd-endpoints", m.ClientURL); code != 0 {
		t.Fatalf("backup: exit %d: %s", code, stderr)
	}
	fi, err := os.Stat(snap)
	if err != nil {
		t.Fatal(err)
	}
	mid := fi.Size() / testetcd.SnapshotPageSize / 2
	bad := testetcd.CorruptPages(t, snap, mid-1, mid+2, func(int) byte { return 0xff })

	_, stderr, code := run("recover", "--asset-dir", dir, "--etcd-backup", bad)
	if code != 1 {
		t.Errorf("exit %d, want 1", code)
	}
	if !strings.Contains(stderr, "is not a valid etcd snapshot: its pages are damaged") || strings.Contains(stderr, "goroutine ") {
		t.Errorf("stderr:\n%s", stderr)
	}
}
