package cli

import (
	"errors"

	"github.com/bootstrap-k8s/bootstrap/pkg/apis/bootstrap/v1alpha1"
	"github.com/bootstrap-k8s/bootstrap/pkg/cli/exit"
)

// ExitCode maps an error returned by a command to the process exit code.
func ExitCode(err error) int {
	if err == nil {
		return 0
	}
	var e *exit.Error
	if errors.As(err, &e) {
		return e.Code
	}
	if v1alpha1.IsInvalid(err) {
		return exit.InvalidConfig
	}
	return exit.General
}
