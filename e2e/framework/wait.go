//go:build e2e

package framework

import (
	"context"
	"fmt"
	"testing"
	"time"
)

// Condition is polled by Wait. It reports whether it is satisfied, a short
// status for the logs ("phase Pending, container kube-proxy waiting:
// ContainerCreating") and the last error seen (not fatal: Wait keeps polling).
type Condition func(ctx context.Context) (done bool, status string, err error)

// WaitError says what was waited for, for how long, and what was last seen.
type WaitError struct {
	What       string
	Elapsed    time.Duration
	LastStatus string
	LastErr    error
}

func (e *WaitError) Error() string {
	s := fmt.Sprintf("timed out after %s waiting for %s", e.Elapsed.Round(100*time.Millisecond), e.What)
	if e.LastStatus != "" {
		s += "; last status: " + e.LastStatus
	}
	if e.LastErr != nil {
		s += "; last error: " + e.LastErr.Error()
	}
	return s
}

// Wait polls cond every interval until it is done or timeout passes. Every
// 10 s it logs (through logf, if not nil) that it is still waiting and what it
// last saw, so a hanging test is never silent.
func Wait(ctx context.Context, logf func(string, ...any), what string, timeout, interval time.Duration, cond Condition) (time.Duration, error) {
	start := time.Now()
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	if interval <= 0 {
		interval = 200 * time.Millisecond
	}
	var lastStatus string
	var lastErr error
	nextReport := start.Add(10 * time.Second)
	for {
		callCtx, callCancel := context.WithTimeout(ctx, 10*time.Second)
		done, status, err := cond(callCtx)
		callCancel()
		if done {
			return time.Since(start), nil
		}
		if status != "" {
			lastStatus = status
		}
		if err != nil {
			lastErr = err
		}
		if logf != nil && time.Now().After(nextReport) {
			logf("still waiting for %s (%s); status: %q; last error: %v", what, time.Since(start).Round(time.Second), lastStatus, lastErr)
			nextReport = time.Now().Add(10 * time.Second)
		}
		select {
		case <-ctx.Done():
			return time.Since(start), &WaitError{What: what, Elapsed: time.Since(start), LastStatus: lastStatus, LastErr: lastErr}
		case <-time.After(interval):
		}
	}
}

// WaitT is Wait that fails the test on timeout and logs how long it took.
func WaitT(t testing.TB, what string, timeout time.Duration, cond Condition) time.Duration {
	t.Helper()
	d, err := Wait(context.Background(), t.Logf, what, timeout, 200*time.Millisecond, cond)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("%s: after %s", what, d.Round(10*time.Millisecond))
	return d
}
