package recovery

import (
	"errors"
	"fmt"
	"os"
	"syscall"
)

// checkNotInUse refuses a db file a running etcd has open: etcd holds an
// exclusive flock on its bolt file for as long as it runs, and reading a
// live member's data would at best give a torn copy and at worst block.
func checkNotInUse(dbPath string) error {
	f, err := os.Open(dbPath)
	if err != nil {
		return err
	}
	defer f.Close()
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_SH|syscall.LOCK_NB); err != nil {
		if errors.Is(err, syscall.EWOULDBLOCK) {
			return fmt.Errorf("%s is in use by a running etcd: stop that member first (remove its static pod manifest, or stop its service), or recover from it while it runs with --etcd-endpoints", dbPath)
		}
		return fmt.Errorf("locking %s: %w", dbPath, err)
	}
	return syscall.Flock(int(f.Fd()), syscall.LOCK_UN)
}
