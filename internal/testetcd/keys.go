package testetcd

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"go.etcd.io/etcd/server/v3/etcdserver/api/v3client"
)

// Filled renders an asset dir and starts one member holding n keys
// /registry/configmaps/default/cm-<i>, each a value of size bytes: a
// snapshot of an empty member does not verify, and a few hundred keys of
// 400 bytes give a bolt file of many pages to damage.
func Filled(t testing.TB, n, size int) (assetDir string, m *Running) {
	t.Helper()
	assetDir = RenderAssets(t)
	m = Start(t, assetDir, Member{Name: "node-1"})
	cli := v3client.New(m.Server) // in-process: no TLS needed to fill it
	defer cli.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	v := strings.Repeat("v", size)
	for i := 0; i < n; i++ {
		if _, err := cli.Put(ctx, fmt.Sprintf("/registry/configmaps/default/cm-%d", i), v); err != nil {
			t.Fatal(err)
		}
	}
	return assetDir, m
}

// SnapshotPageSize is the bolt page size of the snapshots a member on this
// machine writes (bbolt's default, the OS page size).
var SnapshotPageSize = int64(os.Getpagesize())

// CorruptPages copies the snapshot src and overwrites pages [from, to) of
// the copy with fill(offset), leaving the meta pages (the well-formed
// header) intact when from ≥ 2. It returns the copy's path.
func CorruptPages(t testing.TB, src string, from, to int64, fill func(off int) byte) string {
	t.Helper()
	data, err := os.ReadFile(src)
	if err != nil {
		t.Fatal(err)
	}
	ps := SnapshotPageSize
	if to*ps > int64(len(data)) {
		t.Fatalf("snapshot has %d pages, corrupting up to %d", int64(len(data))/ps, to)
	}
	for off := from * ps; off < to*ps; off++ {
		data[off] = fill(int(off))
	}
	p := filepath.Join(t.TempDir(), fmt.Sprintf("corrupt-%d-%d.db", from, to))
	if err := os.WriteFile(p, data, 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}
