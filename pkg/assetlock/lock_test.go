package assetlock

import (
	"errors"
	"testing"
)

// TestLock: a second holder is refused with ErrBusy until the first
// releases; a missing dir is an error, not ErrBusy.
func TestLock(t *testing.T) {
	dir := t.TempDir()
	release, err := Lock(dir)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := Lock(dir); !errors.Is(err, ErrBusy) {
		t.Errorf("second lock: %v, want ErrBusy", err)
	}
	release()
	release2, err := Lock(dir)
	if err != nil {
		t.Fatalf("lock after release: %v", err)
	}
	release2()
	if _, err := Lock(dir + "/missing"); err == nil || errors.Is(err, ErrBusy) {
		t.Errorf("missing dir: %v, want an error that is not ErrBusy", err)
	}
}
