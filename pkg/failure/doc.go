// Package failure says what kind of failure an error is, so that flows
// (start, recover, ...) and building blocks can report it without knowing
// about processes or exit codes. Only the command tree (pkg/cli) turns a
// kind into an exit code, in one place.
//
//	if err := checkAssetDir(dir); err != nil {
//		return failure.Preflight(err) // nothing was changed: fix and re-run
//	}
//	...
//	switch failure.KindOf(err) {
//	case failure.KindPreflight: // exit 2
//	case failure.KindInvalidConfig: // exit 3
//	}
//
// Wrapping keeps the message and the chain (errors.Is / errors.As see
// through it); the outermost kind wins.
package failure
