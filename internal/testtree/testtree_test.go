package testtree

import (
	"os"
	"path/filepath"
	"slices"
	"testing"
)

func TestChanges(t *testing.T) {
	dir := t.TempDir()
	file := func(name, content string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	edited, gone, chmoded := file("edited", "a"), file("gone", "b"), file("chmoded", "c")
	before := Snapshot(t, dir)
	if c := before.Changes(t, dir); len(c) != 0 {
		t.Fatalf("nothing changed, yet: %v", c)
	}
	file("edited", "A")
	os.Remove(gone)
	os.Chmod(chmoded, 0o644)
	added := file("added", "")
	want := []string{"added " + added, "changed " + chmoded, "changed " + edited, "removed " + gone}
	slices.Sort(want)
	if got := before.Changes(t, dir); !slices.Equal(got, want) {
		t.Errorf("Changes = %v, want %v", got, want)
	}
}
