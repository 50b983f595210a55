// Package testtree records a directory tree — every path, its mode and the
// content of its files — so that a test can prove a refused command changed
// nothing in it.
//
//	before := testtree.Snapshot(t, assetDir)
//	// ... the command under test fails ...
//	if changes := before.Changes(t, assetDir); len(changes) > 0 {
//		t.Errorf("a refused command changed the asset dir: %v", changes)
//	}
package testtree

import (
	"os"
	"path/filepath"
	"sort"
	"testing"
)

// Tree maps each path under a directory (the directory included) to its
// mode and, for a file, its content.
type Tree map[string]string

// Snapshot reads the tree under dir; an unreadable entry is recorded as such.
func Snapshot(t testing.TB, dir string) Tree {
	t.Helper()
	tree := Tree{}
	filepath.Walk(dir, func(p string, fi os.FileInfo, err error) error {
		if err != nil {
			tree[p] = "error: " + err.Error()
			return nil
		}
		entry := fi.Mode().String()
		if fi.Mode().IsRegular() {
			data, err := os.ReadFile(p)
			if err != nil {
				entry += " error: " + err.Error()
			}
			entry += " " + string(data)
		}
		tree[p] = entry
		return nil
	})
	return tree
}

// Changes lists what differs between the tree now under dir and before:
// "added P", "removed P" or "changed P" (mode or content), sorted.
func (before Tree) Changes(t testing.TB, dir string) []string {
	t.Helper()
	after := Snapshot(t, dir)
	var out []string
	for p, b := range before {
		switch a, ok := after[p]; {
		case !ok:
			out = append(out, "removed "+p)
		case a != b:
			out = append(out, "changed "+p)
		}
	}
	for p := range after {
		if _, ok := before[p]; !ok {
			out = append(out, "added "+p)
		}
	}
	sort.Strings(out)
	return out
}
