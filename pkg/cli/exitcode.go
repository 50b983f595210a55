package cli

import (
	"github.com/bootstrap-k8s/bootstrap/pkg/apis/bootstrap/v1alpha1"
	"github.com/bootstrap-k8s/bootstrap/pkg/failure"
)

// Exit codes of every bootstrap command.
const (
	ExitGeneral       = 1
	ExitPreflight     = 2
	ExitInvalidConfig = 3
)

// Exit codes of `bootstrap status` (its own convention, as a monitoring
// check's): 0 Healthy, 1 Degraded, 2 Unhealthy. A status run that could not
// check at all (bad flags, no asset dir) exits 3 or 1 as any command.
const (
	ExitStatusDegraded  = 1
	ExitStatusUnhealthy = 2
)

// ExitCode maps an error returned by a command to the process exit code.
// This is the only place that does: flows and building blocks return errors
// marked with a failure.Kind (or v1alpha1's InvalidError).
func ExitCode(err error) int {
	if err == nil {
		return 0
	}
	switch failure.KindOf(err) {
	case failure.KindPreflight:
		return ExitPreflight
	case failure.KindInvalidConfig:
		return ExitInvalidConfig
	case failure.KindDegraded:
		return ExitStatusDegraded
	case failure.KindUnhealthy:
		return ExitStatusUnhealthy
	}
	if v1alpha1.IsInvalid(err) {
		return ExitInvalidConfig
	}
	return ExitGeneral
}
