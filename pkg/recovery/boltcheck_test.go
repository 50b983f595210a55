package recovery

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/bootstrap-k8s/bootstrap/internal/testetcd"
)

// snapshotWithPages takes a real snapshot of a member holding enough keys
// for the bolt file to have many pages, and returns its path and page size.
func snapshotWithPages(t *testing.T) (string, int64) {
	t.Helper()
	dir, m := testetcd.Filled(t, 300, 400)
	snap := filepath.Join(t.TempDir(), "snap.db")
	if _, err := Backup(context.Background(), BackupOptions{AssetDir: dir, Output: snap, Endpoints: []string{m.ClientURL}}); err != nil {
		t.Fatal(err)
	}
	return snap, testetcd.SnapshotPageSize
}

// TestVerifyPageCorruptedSnapshot is issue 17 item 3: a snapshot whose
// header is well formed and whose pages are damaged made recover panic with
// a bbolt stack trace. Verify must say the file is damaged, and the process
// must live on.
func TestVerifyPageCorruptedSnapshot(t *testing.T) {
	snap, ps := snapshotWithPages(t)
	fi, _ := os.Stat(snap)
	pages := fi.Size() / ps
	t.Logf("snapshot: %d pages", pages)
	if _, err := Verify(snap); err != nil {
		t.Fatal(err)
	}
	// Free pages may be garbage by design (bbolt never reads them), so the
	// middle spans are centred on a page the database uses: the page
	// nearest the middle of the file that holds data.
	used := testetcd.InUsePages(t, snap)
	mid := used[len(used)/2]
	if mid < 4 {
		mid = 4
	}
	t.Logf("%d data pages, damaging around page %d", len(used), mid)
	fills := map[string]func(int) byte{
		"ff":      func(int) byte { return 0xff },
		"zero":    func(int) byte { return 0 },
		"counter": func(i int) byte { return byte(i * 7) },
	}
	for name, fill := range fills {
		for _, span := range [][2]int64{{used[0], used[0] + 2}, {mid, mid + 1}, {mid - 2, mid + 3}, {4, pages - 1}} {
			t.Run(fmt.Sprintf("%s-%d-%d", name, span[0], span[1]), func(t *testing.T) {
				p := testetcd.CorruptPages(t, snap, span[0], span[1], fill)
				_, err := Verify(p)
				if err == nil {
					t.Fatalf("a snapshot with pages %d-%d overwritten verified", span[0], span[1])
				}
				if !strings.Contains(err.Error(), "is not a valid etcd snapshot") {
					t.Errorf("error %v", err)
				}
				t.Log(err)
			})
		}
	}
}
