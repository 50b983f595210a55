//go:build e2e

package framework

import (
	"context"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
)

// HandoverPoller GETs the kube-system Namespace every 50 ms from the first
// answer of the (temporary) apiserver until stopped, counting failures: the
// hand-over to the self-hosted kube-apiserver must not lose a request. Shared
// by the start scenario (which asserts zero failures) and the benchmark (which
// reports them).
type HandoverPoller struct {
	requests, failed atomic.Int64
	firstErr         atomic.Value
	stop             chan struct{}
	stopOnce         sync.Once
	wg               sync.WaitGroup
}

// HandoverResult is what a HandoverPoller saw.
type HandoverResult struct {
	Requests, Failed int64
	FirstErr         string
}

// PollHandover starts polling through cs. Requests before the first success
// do not count: the apiserver is not expected to answer yet.
func PollHandover(cs kubernetes.Interface) *HandoverPoller {
	h := &HandoverPoller{stop: make(chan struct{})}
	h.wg.Add(1)
	go func() {
		defer h.wg.Done()
		started := false
		tick := time.NewTicker(50 * time.Millisecond)
		defer tick.Stop()
		for {
			select {
			case <-h.stop:
				return
			case <-tick.C:
			}
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			_, err := cs.CoreV1().Namespaces().Get(ctx, "kube-system", metav1.GetOptions{})
			cancel()
			if !started {
				started = err == nil
				continue
			}
			h.requests.Add(1)
			if err != nil && h.failed.Add(1) == 1 {
				h.firstErr.Store(err.Error())
			}
		}
	}()
	return h
}

// Stop stops polling (idempotent) and returns the counts.
func (h *HandoverPoller) Stop() HandoverResult {
	h.stopOnce.Do(func() { close(h.stop) })
	h.wg.Wait()
	r := HandoverResult{Requests: h.requests.Load(), Failed: h.failed.Load()}
	if e, ok := h.firstErr.Load().(string); ok {
		r.FirstErr = e
	}
	return r
}

// Finish stops polling, logs the counts and fails the test if no request was
// made or any failed.
func (h *HandoverPoller) Finish(t testing.TB) HandoverResult {
	t.Helper()
	r := h.Stop()
	t.Logf("handover: %d requests, %d failed", r.Requests, r.Failed)
	if r.Requests == 0 {
		t.Error("the hand-over poller made no request")
	}
	if r.Failed != 0 {
		t.Errorf("%d requests failed across the hand-over; first: %v", r.Failed, r.FirstErr)
	}
	return r
}
