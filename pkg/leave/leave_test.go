package leave

import (
	"context"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/bootstrap-k8s/bootstrap/pkg/etcdmembers"
	"github.com/bootstrap-k8s/bootstrap/pkg/failure"
)

func member(name string, healthy, learner bool) etcdmembers.Status {
	return etcdmembers.Status{Member: etcdmembers.Member{Name: name, IsLearner: learner},
		PeerURLs: []string{"https://" + name + ":2380"}, Started: true, Healthy: healthy}
}

// TestCheckCanRemove: the quorum rules of leave.
func TestCheckCanRemove(t *testing.T) {
	const self = "https://n2:2380"
	for _, tc := range []struct {
		name    string
		list    []etcdmembers.Status
		wantErr string // "" = allowed
		noSelf  bool
	}{
		{"2 of 3 remain", []etcdmembers.Status{member("n1", true, false), member("n2", true, false), member("n3", true, false)}, "", false},
		{"leaving node down, 2 of 3 remain", []etcdmembers.Status{member("n1", true, false), member("n2", false, false), member("n3", true, false)}, "", false},
		{"1 of 2", []etcdmembers.Status{member("n1", true, false), member("n2", true, false)}, "leaves 1 of 2", false},
		{"last member", []etcdmembers.Status{member("n2", true, false)}, "only etcd member", false},
		{"another member down", []etcdmembers.Status{member("n1", true, false), member("n2", true, false), member("n3", false, false)}, "of the remaining 2 members answer", false},
		{"two of four down", []etcdmembers.Status{member("n1", true, false), member("n2", true, false), member("n3", false, false), member("n4", false, false)}, "only 2 of 4", false},
		{"a learner leaves freely", []etcdmembers.Status{member("n1", true, false), member("n2", true, true)}, "", false},
		{"no member left: cleanup only", []etcdmembers.Status{member("n1", true, false)}, "", true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := checkCanRemove(tc.list, self)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) || !strings.Contains(err.Error(), "would break quorum") || !failure.IsPreflight(err) {
					t.Fatalf("err = %v, want a preflight error with %q", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if (got == nil) != tc.noSelf {
				t.Errorf("member = %+v, want none: %v", got, tc.noSelf)
			}
		})
	}
}

// TestWaitClosed: leave waits for the node's kube-apiserver to stop
// listening before it removes the etcd member, and gives up after its
// timeout.
func TestWaitClosed(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	if waitClosed(context.Background(), addr, 1200*time.Millisecond) {
		t.Fatal("waitClosed returned true while the port was listening")
	}
	time.AfterFunc(700*time.Millisecond, func() { l.Close() })
	begin := time.Now()
	if !waitClosed(context.Background(), addr, 10*time.Second) {
		t.Fatal("waitClosed returned false after the listener closed")
	}
	if d := time.Since(begin); d < 600*time.Millisecond {
		t.Errorf("waitClosed returned after %s, before the listener closed", d)
	}
}

// TestLeadershipTarget: leadership moves to a healthy voter, never to the
// leaving member, a learner or a member that does not answer.
func TestLeadershipTarget(t *testing.T) {
	withID := func(s etcdmembers.Status, id uint64) etcdmembers.Status { s.ID = id; return s }
	self := withID(member("n2", true, false), 2)
	for _, tc := range []struct {
		name string
		self etcdmembers.Status
		list []etcdmembers.Status
		want string // "" = none
	}{
		{"first healthy voter", self, []etcdmembers.Status{self, withID(member("n1", true, false), 1), withID(member("n3", true, false), 3)}, "n1"},
		{"skips a member that does not answer", self, []etcdmembers.Status{withID(member("n1", false, false), 1), self, withID(member("n3", true, false), 3)}, "n3"},
		{"skips a learner", self, []etcdmembers.Status{withID(member("n1", true, true), 1), self, withID(member("n3", true, false), 3)}, "n3"},
		{"none left", self, []etcdmembers.Status{self, withID(member("n1", false, false), 1)}, ""},
		{"a learner never leads", withID(member("n2", true, true), 2), []etcdmembers.Status{withID(member("n1", true, false), 1)}, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := leadershipTarget(&tc.self, tc.list)
			name := ""
			if got != nil {
				name = got.Name
			}
			if name != tc.want {
				t.Errorf("target = %q, want %q", name, tc.want)
			}
		})
	}
}
