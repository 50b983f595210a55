package waitfor

import (
	"context"
	"fmt"
	"time"

	"k8s.io/apimachinery/pkg/util/wait"
)

// Condition reports whether it holds, a short status for reports ("2/3
// pods ready") and the last error seen, which is not fatal: polling goes on.
type Condition func(ctx context.Context) (done bool, status string, err error)

// Options say what is awaited and how.
type Options struct {
	What     string
	Timeout  time.Duration
	Interval time.Duration // default 250 ms
	// ReportEvery is how often Report hears that the wait goes on (default 15 s).
	ReportEvery time.Duration
	Report      func(msg string) // nil: silent until the end
	// CallTimeout bounds each call of the condition (0: none beyond Timeout).
	CallTimeout time.Duration
}

// TimeoutError says what was awaited, for how long, and what was seen last.
type TimeoutError struct {
	What       string
	Elapsed    time.Duration
	LastStatus string
	LastErr    error
}

func (e *TimeoutError) Error() string {
	s := fmt.Sprintf("timed out after %s waiting for %s", round(e.Elapsed), e.What)
	if e.LastStatus != "" {
		s += ": " + e.LastStatus
	}
	if e.LastErr != nil {
		s += "; last error: " + e.LastErr.Error()
	}
	return s
}

func round(d time.Duration) time.Duration {
	if d < 10*time.Second {
		return d.Round(100 * time.Millisecond)
	}
	return d.Round(time.Second)
}

// Until polls cond, first at once, until it holds or Timeout (or ctx) ends.
// It returns how long it waited.
func Until(ctx context.Context, o Options, cond Condition) (time.Duration, error) {
	if o.Interval <= 0 {
		o.Interval = 250 * time.Millisecond
	}
	if o.ReportEvery <= 0 {
		o.ReportEvery = 15 * time.Second
	}
	start := time.Now()
	lastReport := start
	status, lastErr := "not checked yet", error(nil)
	err := wait.PollUntilContextTimeout(ctx, o.Interval, o.Timeout, true, func(ctx context.Context) (bool, error) {
		callCtx, cancel := ctx, context.CancelFunc(func() {})
		if o.CallTimeout > 0 {
			callCtx, cancel = context.WithTimeout(ctx, o.CallTimeout)
		}
		done, st, err := cond(callCtx)
		cancel()
		if st != "" {
			status = st
		} else if err != nil {
			status = err.Error()
		}
		if err != nil {
			lastErr = err
		}
		if !done && o.Report != nil && time.Since(lastReport) >= o.ReportEvery {
			lastReport = time.Now()
			o.Report(fmt.Sprintf("still waiting for %s after %.0fs: %s", o.What, time.Since(start).Seconds(), status))
		}
		return done, nil
	})
	if err != nil {
		te := &TimeoutError{What: o.What, Elapsed: time.Since(start), LastStatus: status}
		if lastErr != nil && lastErr.Error() != status {
			te.LastErr = lastErr
		}
		return te.Elapsed, te
	}
	return time.Since(start), nil
}
