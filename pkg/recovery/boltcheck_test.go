package recovery

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

// snapshotWithPages takes a real snapshot of a member holding enough keys
// for the bolt file to have many pages, and returns its path and page size.
func snapshotWithPages(t *testing.T) (string, int64) {
	t.Helper()
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
	if _, err := Backup(ctx, BackupOptions{AssetDir: dir, Output: snap, Endpoints: []string{m.ClientURL}}); err != nil {
		t.Fatal(err)
	}
	return snap, 4096
}

// corrupt copies src and overwrites pages [from, to) of the copy with fill,
// leaving both meta pages (the well-formed header) intact.
func corrupt(t *testing.T, src string, pageSize int64, from, to int64, fill func(i int) byte) string {
	t.Helper()
	data, err := os.ReadFile(src)
	if err != nil {
		t.Fatal(err)
	}
	if to*pageSize > int64(len(data)) {
		t.Fatalf("snapshot has %d pages, corrupting up to %d", int64(len(data))/pageSize, to)
	}
	for off := from * pageSize; off < to*pageSize; off++ {
		data[off] = fill(int(off))
	}
	p := filepath.Join(t.TempDir(), fmt.Sprintf("corrupt-%d-%d.db", from, to))
	if err := os.WriteFile(p, data, 0o600); err != nil {
		t.Fatal(err)
	}
	return p
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
	mid := pages / 2
	fills := map[string]func(int) byte{
		"ff":      func(int) byte { return 0xff },
		"zero":    func(int) byte { return 0 },
		"counter": func(i int) byte { return byte(i * 7) },
	}
	for name, fill := range fills {
		for _, span := range [][2]int64{{2, 4}, {mid, mid + 1}, {mid - 2, mid + 3}, {4, pages - 1}} {
			t.Run(fmt.Sprintf("%s-%d-%d", name, span[0], span[1]), func(t *testing.T) {
				p := corrupt(t, snap, ps, span[0], span[1], fill)
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
