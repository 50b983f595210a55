//go:build e2e

package framework

import (
	"context"
	"testing"
	"time"

	"github.com/bootstrap-k8s/bootstrap/pkg/waitfor"
)

// Condition is polled by Wait. It reports whether it is satisfied, a short
// status for the logs ("phase Pending, container kube-proxy waiting:
// ContainerCreating") and the last error seen (not fatal: Wait keeps polling).
type Condition func(ctx context.Context) (done bool, status string, err error)

// Wait polls cond every interval until it is done or timeout passes. Every
// 10 s it logs (through logf, if not nil) that it is still waiting and what it
// last saw, so a hanging test is never silent; on timeout the error is a
// *waitfor.TimeoutError.
func Wait(ctx context.Context, logf func(string, ...any), what string, timeout, interval time.Duration, cond Condition) (time.Duration, error) {
	if interval <= 0 {
		interval = 200 * time.Millisecond
	}
	var report func(string)
	if logf != nil {
		report = func(msg string) { logf("%s", msg) }
	}
	return waitfor.Until(ctx, waitfor.Options{What: what, Timeout: timeout, Interval: interval,
		ReportEvery: 10 * time.Second, Report: report, CallTimeout: 10 * time.Second}, waitfor.Condition(cond))
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
