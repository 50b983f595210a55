package recovery

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"time"
)

// snapshotTimeLayout is the UTC timestamp in the names a directory backup
// writes: etcd-snapshot-20260102T030405Z.db.
const snapshotTimeLayout = "20060102T150405Z"

// snapshotName matches exactly the names backup writes, and nothing else:
// a user's etcd-snapshot-mine.db or etcd-snapshot-2026.db is not ours.
var snapshotName = regexp.MustCompile(`^` + regexp.QuoteMeta(SnapshotPrefix) + `([0-9]{8}T[0-9]{6}Z)\.db$`)

// SnapshotName is the file name a directory backup taken at t writes.
func SnapshotName(t time.Time) string {
	return SnapshotPrefix + t.UTC().Format(snapshotTimeLayout) + ".db"
}

// parseSnapshotName returns the time in a name backup wrote; ok is false for
// any other name (one that does not round-trip exactly is not ours either).
func parseSnapshotName(name string) (time.Time, bool) {
	m := snapshotName.FindStringSubmatch(name)
	if m == nil {
		return time.Time{}, false
	}
	t, err := time.Parse(snapshotTimeLayout, m[1])
	if err != nil || SnapshotName(t) != name {
		return time.Time{}, false
	}
	return t, true
}

// Rotation says what a --keep rotation did.
type Rotation struct {
	Removed []string
	// Kept are bootstrap's snapshots kept (the one just written included).
	Kept []string
	// LeftAlone are entries rotation cannot prove are bootstrap's own, with
	// the reason: they are never removed.
	LeftAlone []string
}

// rotate keeps the newest keep snapshots of dir that backup wrote and
// removes the older ones. A file is only ever removed when it is provably
// bootstrap's: a regular file (not a symlink, a directory or a device) whose
// name is exactly SnapshotName of a parsed time and that opens as a bolt
// file. justWritten always counts as kept and is never removed, whatever its
// timestamp (a clock that went backwards makes it look older). Files are
// ordered by the time in their name, not by their text.
func rotate(dir string, keep int, justWritten string) (Rotation, error) {
	var r Rotation
	if keep < 1 {
		return r, fmt.Errorf("--keep %d: keep at least 1 snapshot", keep)
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		return r, fmt.Errorf("listing %s: %w", dir, err)
	}
	type snap struct {
		path string
		at   time.Time
	}
	var ours []snap
	for _, e := range entries {
		p := filepath.Join(dir, e.Name())
		if p == justWritten {
			continue
		}
		at, ok := parseSnapshotName(e.Name())
		if !ok {
			if e.Name()[0] != '.' {
				r.LeftAlone = append(r.LeftAlone, e.Name()+" (not a name backup writes, "+SnapshotPrefix+"<UTC time>.db)")
			}
			continue
		}
		// ReadDir does not follow symlinks: Type is the entry's own.
		if !e.Type().IsRegular() {
			r.LeftAlone = append(r.LeftAlone, fmt.Sprintf("%s (a %s, not a file backup wrote)", e.Name(), kind(e.Type())))
			continue
		}
		if err := checkBoltShape(p); err != nil {
			r.LeftAlone = append(r.LeftAlone, fmt.Sprintf("%s (%v)", e.Name(), err))
			continue
		}
		ours = append(ours, snap{p, at})
	}
	sort.Slice(ours, func(i, j int) bool { return ours[i].at.After(ours[j].at) })
	r.Kept = append(r.Kept, justWritten)
	var errs []error
	for i, s := range ours {
		if i < keep-1 {
			r.Kept = append(r.Kept, s.path)
			continue
		}
		if err := removeFile(s.path); err != nil {
			errs = append(errs, err)
			continue
		}
		r.Removed = append(r.Removed, s.path)
	}
	return r, errors.Join(errs...)
}

// removeFile is os.Remove; tests make it fail.
var removeFile = os.Remove

func kind(m os.FileMode) string {
	switch {
	case m&os.ModeSymlink != 0:
		return "symlink"
	case m.IsDir():
		return "directory"
	default:
		return "special file"
	}
}
