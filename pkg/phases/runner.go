// Package phases runs a command as a flat list of named steps, kubeadm-style:
// each phase prints "[name] ..." progress with its duration, failures name
// the phase, and the durations are kept for the closing summary and the
// benchmarks.
//
//	r := phases.New(printer)
//	err := r.Run(ctx,
//		phases.Phase{Name: "preflight", Run: checkNode},
//		phases.Phase{Name: "etcd", Run: startEtcd, Skip: etcdRunning},
//	)
//	for _, d := range r.Durations() { ... }
package phases

import (
	"context"
	"fmt"
	"time"

	"github.com/bootstrap-k8s/bootstrap/pkg/ui"
)

// Phase is one step of a command.
type Phase struct {
	// Name is what progress lines are prefixed with: "[name] ...".
	Name string
	// Title says what the phase does, for the start line.
	Title string
	// Run does the work. It may print its own "[name] ..." detail lines.
	Run func(ctx context.Context) error
	// Skip, when set and returning a reason, skips the phase with that reason
	// (e.g. "already done": re-runs converge instead of repeating work).
	Skip func(ctx context.Context) (reason string, err error)
}

// Duration is how long one phase took.
type Duration struct {
	Name    string
	Elapsed time.Duration
	Skipped bool
}

// Runner runs phases in order and stops at the first error.
type Runner struct {
	p         *ui.Printer
	durations []Duration
}

// New returns a Runner that prints through p.
func New(p *ui.Printer) *Runner { return &Runner{p: p} }

// Error is a phase's failure, naming the phase.
type Error struct {
	Phase string
	Err   error
}

func (e *Error) Error() string { return fmt.Sprintf("[%s] %v", e.Phase, e.Err) }
func (e *Error) Unwrap() error { return e.Err }

// Run runs every phase in order. It returns the first failure as *Error.
func (r *Runner) Run(ctx context.Context, phases ...Phase) error {
	for _, ph := range phases {
		if err := ctx.Err(); err != nil {
			return &Error{Phase: ph.Name, Err: fmt.Errorf("not started: %w", context.Cause(ctx))}
		}
		start := time.Now()
		if ph.Skip != nil {
			reason, err := ph.Skip(ctx)
			if err != nil {
				return &Error{Phase: ph.Name, Err: err}
			}
			if reason != "" {
				r.p.Infof(ph.Name, "Skipped: %s", reason)
				r.durations = append(r.durations, Duration{Name: ph.Name, Elapsed: time.Since(start), Skipped: true})
				continue
			}
		}
		if ph.Title != "" {
			r.p.Infof(ph.Name, "%s", ph.Title)
		}
		err := ph.Run(ctx)
		elapsed := time.Since(start)
		r.durations = append(r.durations, Duration{Name: ph.Name, Elapsed: elapsed})
		if err != nil {
			r.p.Infof(ph.Name, "Failed after %s", ui.Seconds(elapsed))
			return &Error{Phase: ph.Name, Err: err}
		}
		r.p.Infof(ph.Name, "Done in %s", ui.Seconds(elapsed))
	}
	return nil
}

// Durations returns how long each phase run so far took.
func (r *Runner) Durations() []Duration { return append([]Duration(nil), r.durations...) }
