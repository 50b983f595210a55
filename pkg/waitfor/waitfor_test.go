package waitfor

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"
)

func TestUntilReportsAndTimesOut(t *testing.T) {
	var reports []string
	calls := 0
	_, err := Until(context.Background(), Options{What: "the thing", Timeout: 300 * time.Millisecond, Interval: 20 * time.Millisecond,
		ReportEvery: 50 * time.Millisecond, Report: func(m string) { reports = append(reports, m) }},
		func(context.Context) (bool, string, error) {
			calls++
			return false, "1/3 ready", errors.New("connection refused")
		})
	var te *TimeoutError
	if !errors.As(err, &te) {
		t.Fatalf("err = %v, want *TimeoutError", err)
	}
	if msg := err.Error(); !strings.Contains(msg, "waiting for the thing: 1/3 ready; last error: connection refused") {
		t.Errorf("message %q does not say what and what was seen", msg)
	}
	if len(reports) == 0 || !strings.Contains(reports[0], "still waiting for the thing after") {
		t.Errorf("reports = %q", reports)
	}
	if calls < 5 {
		t.Errorf("only %d calls", calls)
	}
}

func TestUntilDone(t *testing.T) {
	n := 0
	d, err := Until(context.Background(), Options{What: "x", Timeout: 5 * time.Second, Interval: 10 * time.Millisecond},
		func(context.Context) (bool, string, error) { n++; return n == 3, "", nil })
	if err != nil || n != 3 || d <= 0 {
		t.Fatalf("d=%v n=%d err=%v", d, n, err)
	}
}

func TestCallTimeoutBoundsEachCall(t *testing.T) {
	_, err := Until(context.Background(), Options{What: "slow", Timeout: 500 * time.Millisecond, CallTimeout: 30 * time.Millisecond},
		func(ctx context.Context) (bool, string, error) {
			<-ctx.Done()
			return false, "", ctx.Err()
		})
	if err == nil || !strings.Contains(err.Error(), "deadline exceeded") {
		t.Fatalf("err = %v", err)
	}
}
