package status

import (
	"fmt"
	"time"
)

// State is how a component, or the control plane as a whole, is doing.
type State string

const (
	// Healthy: every check of the component passes.
	Healthy State = "Healthy"
	// Degraded: the component works with less than it should (fewer ready
	// replicas than desired, an etcd member down with quorum kept, a
	// certificate close to expiry); for the whole: something is not
	// Healthy, but the API serves and etcd has quorum.
	Degraded State = "Degraded"
	// Unhealthy: the component does not work; for the whole: no
	// kube-apiserver serves, or etcd has lost quorum.
	Unhealthy State = "Unhealthy"
	// Unknown: nothing could be checked (for a component whose checks need
	// the API while it is down).
	Unknown State = "Unknown"
)

// rank orders states from best to worst.
func (s State) rank() int {
	switch s {
	case Healthy:
		return 0
	case Unknown:
		return 1
	case Degraded:
		return 2
	}
	return 3
}

// worse is the worse of two states.
func worse(a, b State) State {
	if b.rank() > a.rank() {
		return b
	}
	return a
}

// Row is one component (on one node, for per-node components).
type Row struct {
	Component string `json:"component"`
	Node      string `json:"node,omitempty"`
	State     State  `json:"state"`
	// Desired and Ready count replicas or members; nil where not counted.
	Desired *int32 `json:"desired,omitempty"`
	Ready   *int32 `json:"ready,omitempty"`
	Version string `json:"version,omitempty"`
	// Check says what was probed ("GET https://10.0.0.2:6443/readyz").
	Check string `json:"check"`
	// Detail is what the check found, or why it failed.
	Detail string `json:"detail,omitempty"`
	// CertNotAfter is the expiry of the certificate the component serves,
	// as a TLS client sees it (nil where it could not be read).
	CertNotAfter *time.Time `json:"certNotAfter,omitempty"`
	// LastTransition and Reason: when the component's state last changed
	// and why (from the Kubernetes objects' conditions; with --watch, from
	// this command's own observations).
	LastTransition *time.Time `json:"lastTransition,omitempty"`
	Reason         string     `json:"reason,omitempty"`
}

// Key identifies a row across rounds.
func (r Row) Key() string { return r.Component + "/" + r.Node }

// Report is the result of one check of the whole control plane.
type Report struct {
	Overall   State     `json:"overall"`
	Reason    string    `json:"reason"`
	CheckedAt time.Time `json:"checkedAt"`
	// APIReachable: some kube-apiserver answered; when false, the rows
	// that need the API are Unknown.
	APIReachable bool       `json:"apiReachable"`
	Thresholds   Thresholds `json:"thresholds"`
	Rows         []Row      `json:"components"`
}

// Thresholds say how each check is run and judged.
type Thresholds struct {
	// Interval between two probes of the same check.
	Interval time.Duration `json:"interval"`
	// Timeout bounds each probe (a TCP connect, a TLS handshake, an HTTP
	// request, an etcd call).
	Timeout time.Duration `json:"timeout"`
	// Healthy and Unhealthy are the consecutive successes and failures that
	// make a check pass or fail.
	Healthy   int `json:"healthyThreshold"`
	Unhealthy int `json:"unhealthyThreshold"`
	// CertWarning: a served certificate expiring within this is Degraded.
	CertWarning time.Duration `json:"certWarning"`
}

// Defaults of Thresholds (documented in docs/operations.md).
const (
	DefaultInterval    = 2 * time.Second
	DefaultTimeout     = 3 * time.Second
	DefaultHealthy     = 1
	DefaultUnhealthy   = 3
	DefaultCertWarning = 30 * 24 * time.Hour
)

func (t *Thresholds) defaults() {
	if t.Interval <= 0 {
		t.Interval = DefaultInterval
	}
	if t.Timeout <= 0 {
		t.Timeout = DefaultTimeout
	}
	if t.Healthy <= 0 {
		t.Healthy = DefaultHealthy
	}
	if t.Unhealthy <= 0 {
		t.Unhealthy = DefaultUnhealthy
	}
	if t.CertWarning <= 0 {
		t.CertWarning = DefaultCertWarning
	}
}

// Validate refuses thresholds that cannot work.
func (t Thresholds) Validate() error {
	switch {
	case t.Interval < 0 || t.Timeout < 0 || t.CertWarning < 0:
		return fmt.Errorf("--interval, --timeout and --cert-warning must not be negative")
	case t.Healthy < 0 || t.Unhealthy < 0:
		return fmt.Errorf("--healthy-threshold and --unhealthy-threshold must be at least 1")
	case t.Healthy > 10 || t.Unhealthy > 10:
		return fmt.Errorf("--healthy-threshold and --unhealthy-threshold are at most 10 (one status run probes up to their sum times)")
	}
	return nil
}

func count(n int32) *int32 { return &n }
