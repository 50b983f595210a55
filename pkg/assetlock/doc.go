// Package assetlock is the node-wide lock of an asset dir: start, recover,
// the guard's recovery, certs renew and pivot each hold it while they change
// the control plane, so that two of them never run at once (the guard must
// not recover a node whose control plane another command is changing).
//
//	release, err := assetlock.Lock(assetDir)
//	if errors.Is(err, assetlock.ErrBusy) { ... another command runs ... }
//	defer release()
//
// The lock is a flock on the directory itself: it works through the guard's
// read-only mount of the asset dir, and it goes with the process, also when
// the process is killed.
package assetlock
