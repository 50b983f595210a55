//go:build e2e

package framework

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"sync"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/kubernetes"
)

// TrafficPoller is what a user's clients do during an upgrade or a
// certificate renewal: every 50 ms it reads (GET a Namespace), writes (patch
// a ConfigMap) and, if given a URL, calls a user Service, each on its own
// and each through one long-lived client, as real clients do. It counts
// failures and the longest time between two successes of each kind.
type TrafficPoller struct {
	stop  chan struct{}
	once  sync.Once
	wg    sync.WaitGroup
	mu    sync.Mutex
	kinds map[string]*TrafficCount
	// timeout bounds each request.
	timeout time.Duration
}

// TrafficCount is what one kind of request saw.
type TrafficCount struct {
	Requests, Failed int
	FirstErr         string
	LongestGap       time.Duration
	// FailedAt is when each failed request was sent; GapEnd when the
	// longest gap ended (the success after it).
	FailedAt []time.Time
	GapEnd   time.Time
	lastOK   time.Time
}

// TrafficResult is what a TrafficPoller saw, by kind ("read", "write", "service").
type TrafficResult map[string]TrafficCount

// Failed is the number of failed requests of every kind.
func (r TrafficResult) Failed() int {
	n := 0
	for _, c := range r {
		n += c.Failed
	}
	return n
}

// LongestGap is the longest time without a success over every kind.
func (r TrafficResult) LongestGap() time.Duration {
	var g time.Duration
	for _, c := range r {
		g = max(g, c.LongestGap)
	}
	return g
}

// FailedAfter is the number of failed requests of every kind sent after t.
func (r TrafficResult) FailedAfter(t time.Time) int {
	n := 0
	for _, c := range r {
		for _, at := range c.FailedAt {
			if at.After(t) {
				n++
			}
		}
	}
	return n
}

func (r TrafficResult) String() string {
	s := ""
	for _, k := range []string{"read", "write", "service"} {
		if c, ok := r[k]; ok {
			s += fmt.Sprintf("%s: %d requests, %d failed, longest gap %s; ", k, c.Requests, c.Failed, c.LongestGap.Round(time.Millisecond))
		}
	}
	return s
}

// PollTraffic starts polling. The ConfigMap default/traffic-poller is
// created for the writes; serviceURL may be empty.
func PollTraffic(t testing.TB, cs kubernetes.Interface, serviceURL string) *TrafficPoller {
	t.Helper()
	return PollTrafficTimeout(t, cs, serviceURL, 5*time.Second)
}

// PollTrafficTimeout is PollTraffic with each request given up after
// timeout (then it counts as failed and the next one is sent). A request
// whose etcd proposal died with the etcd leader waits out the whole
// timeout: what a client sees as the gap then depends on it.
func PollTrafficTimeout(t testing.TB, cs kubernetes.Interface, serviceURL string, timeout time.Duration) *TrafficPoller {
	t.Helper()
	ctx := context.Background()
	cm := &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: "traffic-poller", Namespace: "default"}, Data: map[string]string{"n": "0"}}
	if _, err := cs.CoreV1().ConfigMaps("default").Create(ctx, cm, metav1.CreateOptions{}); err != nil && !apierrors.IsAlreadyExists(err) {
		t.Fatalf("creating the traffic poller's ConfigMap: %v", err)
	}
	p := &TrafficPoller{stop: make(chan struct{}), kinds: map[string]*TrafficCount{}, timeout: timeout}
	n := 0
	p.run("read", func(ctx context.Context) error {
		_, err := cs.CoreV1().Namespaces().Get(ctx, "kube-system", metav1.GetOptions{})
		return err
	})
	p.run("write", func(ctx context.Context) error {
		n++
		patch := fmt.Sprintf(`{"data":{"n":"%d"}}`, n)
		_, err := cs.CoreV1().ConfigMaps("default").Patch(ctx, "traffic-poller", types.MergePatchType, []byte(patch), metav1.PatchOptions{})
		return err
	})
	if serviceURL != "" {
		client := &http.Client{}
		p.run("service", func(ctx context.Context) error {
			req, _ := http.NewRequestWithContext(ctx, http.MethodGet, serviceURL, nil)
			resp, err := client.Do(req)
			if err != nil {
				return err
			}
			defer resp.Body.Close()
			_, _ = io.Copy(io.Discard, resp.Body)
			if resp.StatusCode != http.StatusOK {
				return fmt.Errorf("%s: HTTP %d", serviceURL, resp.StatusCode)
			}
			return nil
		})
	}
	return p
}

func (p *TrafficPoller) run(kind string, do func(context.Context) error) {
	c := &TrafficCount{lastOK: time.Now()}
	p.kinds[kind] = c
	p.wg.Add(1)
	go func() {
		defer p.wg.Done()
		tick := time.NewTicker(50 * time.Millisecond)
		defer tick.Stop()
		for {
			select {
			case <-p.stop:
				return
			case <-tick.C:
			}
			sent := time.Now()
			ctx, cancel := context.WithTimeout(context.Background(), p.timeout)
			err := do(ctx)
			cancel()
			now := time.Now()
			p.mu.Lock()
			c.Requests++
			if err != nil {
				c.Failed++
				c.FailedAt = append(c.FailedAt, sent)
				if c.FirstErr == "" {
					c.FirstErr = now.UTC().Format("15:04:05.000") + " " + err.Error()
				}
			} else {
				if gap := now.Sub(c.lastOK); gap > c.LongestGap {
					c.LongestGap, c.GapEnd = gap, now
				}
				c.lastOK = now
			}
			p.mu.Unlock()
		}
	}()
}

// Stop stops polling (idempotent) and returns what it saw.
func (p *TrafficPoller) Stop() TrafficResult {
	p.once.Do(func() { close(p.stop) })
	p.wg.Wait()
	r := TrafficResult{}
	for k, c := range p.kinds {
		r[k] = *c
	}
	return r
}

// Finish stops polling, logs what it saw and fails the test on any failed
// request or no request at all.
func (p *TrafficPoller) Finish(t testing.TB, during string) TrafficResult {
	t.Helper()
	r := p.Stop()
	t.Logf("traffic during %s: %s", during, r)
	for k, c := range r {
		if c.Requests == 0 {
			t.Errorf("traffic during %s: no %s request was made", during, k)
		}
		if c.Failed > 0 {
			t.Errorf("traffic during %s: %d of %d %s requests failed; first: %s", during, c.Failed, c.Requests, k, c.FirstErr)
		}
	}
	return r
}
