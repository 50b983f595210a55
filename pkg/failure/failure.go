package failure

import "errors"

// Kind is what went wrong, as far as the caller of a command cares.
type Kind int

const (
	// KindGeneral: the command failed while doing its work.
	KindGeneral Kind = iota
	// KindPreflight: a check before any change failed; nothing was changed.
	KindPreflight
	// KindInvalidConfig: the configuration or the flags are not valid.
	KindInvalidConfig
	// KindDegraded and KindUnhealthy: `bootstrap status` ran to the end
	// and found the control plane Degraded (something is not healthy, the
	// API serves) or Unhealthy (no kube-apiserver serves, or etcd lost
	// quorum). Status's own convention, for scripts and monitoring.
	KindDegraded
	KindUnhealthy
)

func (k Kind) String() string {
	switch k {
	case KindPreflight:
		return "preflight"
	case KindInvalidConfig:
		return "invalid configuration"
	case KindDegraded:
		return "degraded"
	case KindUnhealthy:
		return "unhealthy"
	}
	return "general"
}

// Error is an error of a known kind.
type Error struct {
	Kind Kind
	Err  error
}

func (e *Error) Error() string { return e.Err.Error() }
func (e *Error) Unwrap() error { return e.Err }

// Wrap marks err as kind; a nil err stays nil.
func Wrap(kind Kind, err error) error {
	if err == nil {
		return nil
	}
	return &Error{Kind: kind, Err: err}
}

// Preflight marks err as a failed check before anything was changed.
func Preflight(err error) error { return Wrap(KindPreflight, err) }

// InvalidConfig marks err as invalid configuration or flags.
func InvalidConfig(err error) error { return Wrap(KindInvalidConfig, err) }

// KindOf is the kind of the outermost marked error in err's chain, or
// KindGeneral when none is marked.
func KindOf(err error) Kind {
	var e *Error
	if errors.As(err, &e) {
		return e.Kind
	}
	return KindGeneral
}

// IsPreflight says whether err is a preflight failure.
func IsPreflight(err error) bool { return err != nil && KindOf(err) == KindPreflight }
