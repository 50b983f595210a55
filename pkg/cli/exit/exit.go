// Package exit defines bootstrap's exit codes and an error that carries one,
// so that commands can say how they failed without exiting themselves.
package exit

// Exit codes of every bootstrap command.
const (
	General       = 1
	Preflight     = 2
	InvalidConfig = 3
)

// Error wraps an error with the exit code the process should end with.
type Error struct {
	Code int
	Err  error
}

func (e *Error) Error() string { return e.Err.Error() }
func (e *Error) Unwrap() error { return e.Err }

// WithCode wraps err with code; a nil err stays nil.
func WithCode(code int, err error) error {
	if err == nil {
		return nil
	}
	return &Error{Code: code, Err: err}
}
