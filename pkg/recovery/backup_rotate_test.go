package recovery

import (
	"context"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/bootstrap-k8s/bootstrap/internal/testetcd"
)

// TestBackupKeepNeverRemovesAFileItDidNotWrite is the reproduction of
// issue 17 item 1: a user's etcd-snapshot-mine.db in the output directory
// made --keep 1 delete the fresh snapshot, then the user's file, and exit 0.
func TestBackupKeepNeverRemovesAFileItDidNotWrite(t *testing.T) {
	dir, m := memberWithKeys(t)
	ctx := context.Background()
	out := t.TempDir()
	mine := filepath.Join(out, "etcd-snapshot-mine.db")
	os.WriteFile(mine, []byte("the user's own file"), 0o644)

	now := time.Date(2026, 11, 1, 3, 4, 5, 0, time.UTC)
	res, err := Backup(ctx, BackupOptions{AssetDir: dir, Output: out, Keep: 1, Endpoints: []string{m.ClientURL}, Now: func() time.Time { return now }})
	if err != nil {
		t.Fatal(err)
	}
	if filepath.Base(res.Path) != "etcd-snapshot-20261101T030405Z.db" {
		t.Errorf("wrote %s", res.Path)
	}
	for _, p := range []string{res.Path, mine} {
		if _, err := os.Stat(p); err != nil {
			t.Errorf("%s is gone after backup --keep 1: %v", p, err)
		}
	}
	if len(res.Rotation.Removed) != 0 {
		t.Errorf("removed %v", res.Rotation.Removed)
	}
	if len(res.Rotation.LeftAlone) != 1 || !strings.HasPrefix(res.Rotation.LeftAlone[0], "etcd-snapshot-mine.db (not a name backup writes") {
		t.Errorf("left alone %q, want etcd-snapshot-mine.db with the reason", res.Rotation.LeftAlone)
	}

	// A second backup an hour later removes the first (bootstrap's own), and
	// still not the user's file.
	later := now.Add(time.Hour)
	res2, err := Backup(ctx, BackupOptions{AssetDir: dir, Output: out, Keep: 1, Endpoints: []string{m.ClientURL}, Now: func() time.Time { return later }})
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(res2.Rotation.Removed, []string{res.Path}) {
		t.Errorf("second backup removed %v, want only %s", res2.Rotation.Removed, res.Path)
	}
	left, _ := filepath.Glob(filepath.Join(out, "*"))
	if !slices.Equal(left, []string{res2.Path, mine}) {
		t.Errorf("left %v", left)
	}
}

// TestRotate: which entries a --keep rotation removes.
func TestRotate(t *testing.T) {
	const just = "etcd-snapshot-20261101T120000Z.db"
	tests := []struct {
		name string
		keep int
		// entries: name -> kind ("bolt": a bolt file, "text": a regular
		// non-bolt file, "dir", "link" to a bolt file, "fifo").
		entries     map[string]string
		wantRemoved []string
		wantLeft    int // entries left alone (and mentioned)
	}{
		{name: "keeps the newest by time", keep: 2, entries: map[string]string{
			"etcd-snapshot-20261101T110000Z.db": "bolt", "etcd-snapshot-20261101T100000Z.db": "bolt", "etcd-snapshot-20261101T090000Z.db": "bolt"},
			wantRemoved: []string{"etcd-snapshot-20261101T100000Z.db", "etcd-snapshot-20261101T090000Z.db"}},
		{name: "never below keep", keep: 5, entries: map[string]string{
			"etcd-snapshot-20261101T110000Z.db": "bolt", "etcd-snapshot-20261101T100000Z.db": "bolt"}},
		{name: "the just-written file is kept even when its clock went backwards", keep: 1, entries: map[string]string{
			"etcd-snapshot-20271101T110000Z.db": "bolt"},
			wantRemoved: []string{"etcd-snapshot-20271101T110000Z.db"}},
		{name: "user names that look like ours", keep: 1, entries: map[string]string{
			"etcd-snapshot-mine.db": "bolt", "etcd-snapshot-2026.db": "bolt", "etcd-snapshot-20261101T110000Z.db.bak": "bolt",
			"etcd-snapshot-20261101T110000.db": "bolt", "etcd-snapshot-20261301T110000Z.db": "bolt", "xetcd-snapshot-20261101T110000Z.db": "bolt",
			"etcd-snapshot-20261101t110000z.db": "bolt", "notes.txt": "text"},
			wantLeft: 8},
		{name: "our name but not a file backup wrote", keep: 1, entries: map[string]string{
			"etcd-snapshot-20261101T110000Z.db": "dir", "etcd-snapshot-20261101T100000Z.db": "link", "etcd-snapshot-20261101T090000Z.db": "fifo",
			"etcd-snapshot-20261101T080000Z.db": "text"},
			wantLeft: 4},
		{name: "text order is not time order", keep: 2, entries: map[string]string{
			// same text prefix: a plain sort of these names is also time
			// order, so mix years to be sure the parsed time decides.
			"etcd-snapshot-20251231T235959Z.db": "bolt", "etcd-snapshot-20261101T000000Z.db": "bolt"},
			wantRemoved: []string{"etcd-snapshot-20251231T235959Z.db"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := t.TempDir()
			target := filepath.Join(d, "link-target.db")
			writeBolt(t, target)
			writeBolt(t, filepath.Join(d, just))
			for name, kind := range tt.entries {
				p := filepath.Join(d, name)
				switch kind {
				case "bolt":
					writeBolt(t, p)
				case "text":
					os.WriteFile(p, []byte("not bolt"), 0o600)
				case "dir":
					os.Mkdir(p, 0o700)
				case "link":
					os.Symlink(target, p)
				case "fifo":
					if err := syscall.Mkfifo(p, 0o600); err != nil {
						t.Fatal(err)
					}
				}
			}
			r, err := rotate(d, tt.keep, filepath.Join(d, just))
			if err != nil {
				t.Fatal(err)
			}
			var removed []string
			for _, p := range r.Removed {
				removed = append(removed, filepath.Base(p))
			}
			slices.Sort(removed)
			want := slices.Clone(tt.wantRemoved)
			slices.Sort(want)
			if !slices.Equal(removed, want) {
				t.Errorf("removed %v, want %v", removed, want)
			}
			for name := range tt.entries {
				_, err := os.Lstat(filepath.Join(d, name))
				if gone := err != nil; gone != slices.Contains(want, name) {
					t.Errorf("%s: gone=%v", name, gone)
				}
			}
			if _, err := os.Stat(filepath.Join(d, just)); err != nil {
				t.Errorf("the just-written snapshot is gone: %v", err)
			}
			if _, err := os.Stat(target); err != nil {
				t.Errorf("a symlink's target is gone: %v", err)
			}
			// link-target.db is in the directory too: never ours.
			if len(r.LeftAlone) != tt.wantLeft+1 {
				t.Errorf("left alone %q, want %d entries", r.LeftAlone, tt.wantLeft+1)
			}
		})
	}
}

// TestBackupRotationFailure: a removal that fails is an error that says the
// new snapshot is saved, and the snapshot is there.
func TestBackupRotationFailure(t *testing.T) {
	dir, m := memberWithKeys(t)
	out := t.TempDir()
	old := filepath.Join(out, "etcd-snapshot-20261101T110000Z.db")
	writeBolt(t, old)
	removeFile = func(string) error { return os.ErrPermission }
	defer func() { removeFile = os.Remove }()
	now := time.Date(2026, 11, 1, 12, 0, 0, 0, time.UTC)
	res, err := Backup(context.Background(), BackupOptions{AssetDir: dir, Output: out, Keep: 1, Endpoints: []string{m.ClientURL}, Now: func() time.Time { return now }})
	if err == nil || !strings.Contains(err.Error(), "is saved and kept") {
		t.Fatalf("rotation failure: %v", err)
	}
	if res == nil || res.Path != filepath.Join(out, "etcd-snapshot-20261101T120000Z.db") {
		t.Fatalf("result %+v", res)
	}
	for _, p := range []string{res.Path, old} {
		if _, err := os.Stat(p); err != nil {
			t.Error(err)
		}
	}
	if _, err := Verify(res.Path); err != nil {
		t.Errorf("the kept snapshot: %v", err)
	}
}

func TestParseSnapshotName(t *testing.T) {
	now := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	if got, ok := parseSnapshotName(SnapshotName(now)); !ok || !got.Equal(now) {
		t.Errorf("round trip: %v %v", got, ok)
	}
	for _, bad := range []string{"etcd-snapshot-20260230T000000Z.db", "etcd-snapshot-20260102T250000Z.db", "etcd-snapshot-.db", "etcd-snapshot-20260102T030405Z.db.part"} {
		if _, ok := parseSnapshotName(bad); ok {
			t.Errorf("%s parsed as ours", bad)
		}
	}
}

// memberWithKeys starts a member holding one key (a snapshot of an empty
// member does not verify).
func memberWithKeys(t *testing.T) (string, *testetcd.Running) {
	t.Helper()
	return testetcd.Filled(t, 1, 1)
}

func writeBolt(t *testing.T, p string) {
	t.Helper()
	db, err := bolt.Open(p, 0o600, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
}
