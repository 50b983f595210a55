package assetlock

import (
	"errors"
	"fmt"
	"syscall"
)

// ErrBusy: another bootstrap command holds the asset dir's lock.
var ErrBusy = errors.New("another bootstrap command (start, recover, certs renew, pivot, the guard's recovery) works on this asset dir right now")

// Lock takes the asset dir's lock without waiting; release gives it back.
func Lock(dir string) (release func(), err error) {
	fd, err := syscall.Open(dir, syscall.O_RDONLY|syscall.O_DIRECTORY|syscall.O_CLOEXEC, 0)
	if err != nil {
		return nil, fmt.Errorf("opening asset dir %s: %w", dir, err)
	}
	if err := syscall.Flock(fd, syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		syscall.Close(fd)
		if errors.Is(err, syscall.EWOULDBLOCK) {
			return nil, fmt.Errorf("%w (%s is locked): try again when it is done", ErrBusy, dir)
		}
		return nil, fmt.Errorf("locking asset dir %s: %w", dir, err)
	}
	return func() { syscall.Close(fd) }, nil
}
