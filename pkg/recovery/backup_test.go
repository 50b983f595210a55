package recovery

import (
	"context"
	"crypto/rand"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/bootstrap-k8s/bootstrap/internal/testetcd"
)

func TestBackup(t *testing.T) {
	dir, m := testetcd.Filled(t, 50, 1)
	ctx := context.Background()

	out := filepath.Join(t.TempDir(), "snap.db")
	res, err := Backup(ctx, BackupOptions{AssetDir: dir, Output: out, Endpoints: []string{m.ClientURL}})
	if err != nil {
		t.Fatal(err)
	}
	if res.Status.TotalKey < 50 || res.Status.Revision < 50 || res.Status.Hash == 0 {
		t.Errorf("status %+v: want ≥ 50 keys and revisions and a hash", res.Status)
	}
	if fi, err := os.Stat(out); err != nil || fi.Mode().Perm() != 0o600 {
		t.Errorf("snapshot mode %v (%v), want 0600", fi.Mode().Perm(), err)
	}
	if leftovers, _ := filepath.Glob(filepath.Join(filepath.Dir(out), ".*")); len(leftovers) != 0 {
		t.Errorf("temporary files left: %v", leftovers)
	}
	if _, err := Backup(ctx, BackupOptions{AssetDir: dir, Output: out, Endpoints: []string{m.ClientURL}}); err == nil || !strings.Contains(err.Error(), "--force") {
		t.Errorf("overwriting an existing snapshot without --force: %v", err)
	}

	rotated := t.TempDir()
	clock := time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)
	var last *BackupResult
	for i := 0; i < 4; i++ {
		now := clock.Add(time.Duration(i) * time.Hour)
		last, err = Backup(ctx, BackupOptions{AssetDir: dir, Output: rotated, Keep: 2, Endpoints: []string{m.ClientURL}, Now: func() time.Time { return now }})
		if err != nil {
			t.Fatal(err)
		}
	}
	left, _ := filepath.Glob(filepath.Join(rotated, "*"))
	if len(left) != 2 || filepath.Base(last.Path) != "etcd-snapshot-20261101T030000Z.db" || len(last.Rotation.Removed) != 1 {
		t.Errorf("after 4 backups with --keep 2: %v; last %s", left, last.Path)
	}
}

func TestVerifyRejectsBadSnapshots(t *testing.T) {
	d := t.TempDir()
	random := make([]byte, 64<<10)
	rand.Read(random)
	for name, data := range map[string][]byte{"random": random, "empty": {}, "text": []byte("not a snapshot\n")} {
		p := filepath.Join(d, name)
		os.WriteFile(p, data, 0o600)
		if _, err := Verify(p); err == nil {
			t.Errorf("%s: verified", name)
		}
	}
	if _, err := Verify(filepath.Join(d, "missing")); err == nil {
		t.Error("a missing file verified")
	}
}
