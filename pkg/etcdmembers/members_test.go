package etcdmembers

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/bootstrap-k8s/bootstrap/pkg/etcdutil"

	"github.com/bootstrap-k8s/bootstrap/internal/testetcd"
	"github.com/bootstrap-k8s/bootstrap/pkg/assets"
)

// TestEtcdMove walks the persistent member in: learner, promote, boot member
// out, with every step repeated as a re-run after a crash would.
func TestEtcdMove(t *testing.T) {
	if testing.Short() {
		t.Skip("starts two etcd members")
	}
	dir := testetcd.RenderAssets(t)
	boot := testetcd.Start(t, dir, testetcd.Member{Name: assets.BootEtcdMemberName})
	persPeer := testetcd.FreePort(t)
	persPeerURL := fmt.Sprintf("https://127.0.0.1:%d", persPeer)

	ctx := context.Background()
	cli, err := etcdutil.New(dir, boot.ClientURL)
	if err != nil {
		t.Fatal(err)
	}
	defer cli.Close()
	if _, err := cli.Put(ctx, "/registry/test", "kept"); err != nil {
		t.Fatal(err)
	}
	id, err := AddLearner(ctx, cli, persPeerURL)
	if err != nil {
		t.Fatal(err)
	}
	if again, err := AddLearner(ctx, cli, persPeerURL); err != nil || again != id {
		t.Fatalf("re-running AddLearner: %x, %v; want the same member %x", again, err, id)
	}
	pers := testetcd.Start(t, dir, testetcd.Member{Name: "node-1", PeerPort: persPeer, State: "existing",
		InitialCluster: fmt.Sprintf("%s=%s,node-1=%s", assets.BootEtcdMemberName, boot.PeerURL, persPeerURL)})
	if err := Promote(ctx, cli, id, 30*time.Second); err != nil {
		t.Fatal(err)
	}
	if err := Promote(ctx, cli, id, 5*time.Second); err != nil {
		t.Fatalf("re-running Promote: %v", err)
	}

	// The boot member started first and leads: leadership moves before it goes.
	if moved, err := HandOffLeadership(ctx, cli, boot.ClientURL, id); err != nil || !moved {
		t.Fatalf("HandOffLeadership: moved=%v, %v; want the boot member's leadership moved", moved, err)
	}
	if st, err := cli.Status(ctx, boot.ClientURL); err != nil || st.Leader != id {
		t.Fatalf("leader after the hand-off: %+v, %v; want %x", st, err, id)
	}
	if moved, err := HandOffLeadership(ctx, cli, boot.ClientURL, id); err != nil || moved {
		t.Fatalf("HandOffLeadership of a follower: moved=%v, %v; want nothing done", moved, err)
	}

	pcli, err := etcdutil.New(dir, pers.ClientURL)
	if err != nil {
		t.Fatal(err)
	}
	defer pcli.Close()
	if err := Remove(ctx, pcli, boot.PeerURL, 30*time.Second); err != nil {
		t.Fatal(err)
	}
	if err := Remove(ctx, pcli, boot.PeerURL, 30*time.Second); err != nil {
		t.Fatalf("re-running RemoveMember: %v", err)
	}
	members, err := pcli.MemberList(ctx)
	if err != nil || len(members.Members) != 1 || members.Members[0].Name != "node-1" || members.Members[0].IsLearner {
		t.Fatalf("members %+v, %v; want node-1 only, voting", members, err)
	}
	got, err := pcli.Get(ctx, "/registry/test")
	if err != nil || len(got.Kvs) != 1 || string(got.Kvs[0].Value) != "kept" {
		t.Fatalf("data after the move: %v %v", got, err)
	}
}
