package csrapprover

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	certificatesv1 "k8s.io/api/certificates/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/client-go/kubernetes/fake"
)

// logRecorder collects an Approver's log lines.
type logRecorder struct {
	mu    sync.Mutex
	lines []string
}

func (l *logRecorder) logf(format string, args ...any) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.lines = append(l.lines, fmt.Sprintf(format, args...))
}

func (l *logRecorder) count(substr string) int {
	l.mu.Lock()
	defer l.mu.Unlock()
	n := 0
	for _, s := range l.lines {
		if strings.Contains(s, substr) {
			n++
		}
	}
	return n
}

func approved(csr *certificatesv1.CertificateSigningRequest) bool {
	for _, c := range csr.Status.Conditions {
		if c.Type == certificatesv1.CertificateApproved && c.Status == corev1.ConditionTrue {
			return true
		}
	}
	return false
}

// TestApproverDecides runs the controller against a clientset holding good
// and bad requests. The temporary control plane serves no certificates.k8s.io
// API, so this uses client-go's fake clientset; the e2e scenario proves the
// same against kube-apiserver and kube-controller-manager.
func TestApproverDecides(t *testing.T) {
	cs := fake.NewClientset(testNode("node-1"))
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()

	var want []string // approved in the end
	create := func(csr *certificatesv1.CertificateSigningRequest) {
		t.Helper()
		if _, err := cs.CertificatesV1().CertificateSigningRequests().Create(ctx, csr, metav1.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	good := goodRequest()
	create(good.build(t))
	want = append(want, good.name)
	var bad []string
	for i, tc := range badRequests() {
		r := tc.req
		r.name = fmt.Sprintf("csr-bad-%02d", i)
		create(r.build(t))
		bad = append(bad, r.name)
	}
	// A request already denied by someone stays denied.
	denied := goodRequest()
	denied.name = "csr-denied"
	d := denied.build(t)
	d.Status.Conditions = []certificatesv1.CertificateSigningRequestCondition{{Type: certificatesv1.CertificateDenied, Status: corev1.ConditionTrue, Reason: "ByHand"}}
	create(d)

	logs := &logRecorder{}
	a := New(cs, Options{Resync: time.Second, Logf: logs.logf})
	done := make(chan error, 1)
	go func() { done <- a.Run(ctx) }()

	// A node that registers after its request: approved once it exists.
	late := goodRequest()
	late.name, late.username = "csr-late", "system:node:node-2"
	late.subject.CommonName, late.dns = late.username, []string{"node-2"}
	create(late.build(t))
	want = append(want, late.name)
	time.Sleep(500 * time.Millisecond)
	if _, err := cs.CoreV1().Nodes().Create(ctx, testNode("node-2"), metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}

	err := wait.PollUntilContextTimeout(ctx, 50*time.Millisecond, 20*time.Second, true, func(ctx context.Context) (bool, error) {
		for _, n := range want {
			csr, err := cs.CertificatesV1().CertificateSigningRequests().Get(ctx, n, metav1.GetOptions{})
			if err != nil || !approved(csr) {
				return false, nil
			}
		}
		return true, nil
	})
	if err != nil {
		t.Fatalf("good requests %v not approved: %v; log:\n%s", want, err, strings.Join(logs.lines, "\n"))
	}
	// Two more resyncs: bad requests are re-examined and still not approved,
	// and their reason is logged once, not on every resync.
	time.Sleep(2500 * time.Millisecond)
	for _, n := range append(bad, "csr-denied") {
		csr, err := cs.CertificatesV1().CertificateSigningRequests().Get(ctx, n, metav1.GetOptions{})
		if err != nil {
			t.Fatal(err)
		}
		if approved(csr) {
			t.Errorf("%s was approved", n)
		}
		if n != "csr-denied" && len(csr.Status.Conditions) != 0 {
			t.Errorf("%s: conditions %v; want it left pending", n, csr.Status.Conditions)
		}
	}
	for _, n := range bad {
		// The request of another signer is not this approver's business.
		if n == "csr-bad-00" {
			if c := logs.count(n); c != 0 {
				t.Errorf("a request of another signer was logged %d times", c)
			}
			continue
		}
		if c := logs.count("Not approving " + n + " "); c != 1 {
			t.Errorf("%s: reason logged %d times, want once; log:\n%s", n, c, strings.Join(logs.lines, "\n"))
		}
	}
	if logs.count("Not approving csr-late (left pending): node not found: node-2") != 1 {
		t.Errorf("the missing node of csr-late was not logged once; log:\n%s", strings.Join(logs.lines, "\n"))
	}
	cancel()
	if err := <-done; err != nil {
		t.Errorf("Run: %v", err)
	}
}

// TestRunLeaderElected: with the lease, the approver approves; a second
// replica of the same lease waits; on cancel the lease is released.
func TestRunLeaderElected(t *testing.T) {
	cs := fake.NewClientset(testNode("node-1"))
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	if _, err := cs.CertificatesV1().CertificateSigningRequests().Create(ctx, goodRequest().build(t), metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	logs := &logRecorder{}
	lease := Lease{Namespace: "kube-system", Name: "bootstrap-csr-approver", Identity: "replica-a"}
	done := make(chan error, 2)
	go func() { done <- New(cs, Options{Logf: logs.logf}).RunLeaderElected(ctx, lease) }()
	err := wait.PollUntilContextTimeout(ctx, 50*time.Millisecond, 20*time.Second, true, func(ctx context.Context) (bool, error) {
		csr, err := cs.CertificatesV1().CertificateSigningRequests().Get(ctx, "csr-good", metav1.GetOptions{})
		return err == nil && approved(csr), nil
	})
	if err != nil {
		t.Fatalf("not approved under leader election: %v; log:\n%s", err, strings.Join(logs.lines, "\n"))
	}
	second := lease
	second.Identity = "replica-b"
	go func() { done <- New(cs, Options{Logf: logs.logf}).RunLeaderElected(ctx, second) }()
	err = wait.PollUntilContextTimeout(ctx, 50*time.Millisecond, 10*time.Second, true, func(context.Context) (bool, error) {
		return logs.count("Waiting: replica-a leads") > 0, nil
	})
	if err != nil {
		t.Errorf("the second replica did not wait for the leader: log:\n%s", strings.Join(logs.lines, "\n"))
	}
	cancel()
	for range 2 {
		if err := <-done; err != nil {
			t.Errorf("RunLeaderElected after cancel: %v, want nil", err)
		}
	}
	l, err := cs.CoordinationV1().Leases("kube-system").Get(context.Background(), lease.Name, metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if h := l.Spec.HolderIdentity; h != nil && *h != "" {
		t.Errorf("lease still held by %q after cancel; want it released", *h)
	}
	if logs.count("Leading") != 1 {
		t.Errorf("%d replicas led, want 1; log:\n%s", logs.count("Leading"), strings.Join(logs.lines, "\n"))
	}
}
