package etcdmembers

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/bootstrap-k8s/bootstrap/internal/testetcd"
	"github.com/bootstrap-k8s/bootstrap/pkg/etcdutil"
)

// TestListAndVoters: a running member answers; a learner added but never
// started is listed as not started and does not count as a voter.
func TestListAndVoters(t *testing.T) {
	dir := testetcd.RenderAssets(t)
	m := testetcd.Start(t, dir, testetcd.Member{Name: "node-1"})
	cli, err := etcdutil.New(dir, m.ClientURL)
	if err != nil {
		t.Fatal(err)
	}
	defer cli.Close()
	ctx := context.Background()
	if _, err := AddLearner(ctx, cli, fmt.Sprintf("https://127.0.0.1:%d", testetcd.FreePort(t))); err != nil {
		t.Fatal(err)
	}
	list, err := List(ctx, cli, 2*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	if len(list) != 2 {
		t.Fatalf("%d members, want 2: %+v", len(list), list)
	}
	for _, s := range list {
		switch s.Name {
		case "node-1":
			if !s.Started || !s.Healthy || s.IsLearner {
				t.Errorf("running member: %+v", s)
			}
		case "":
			if s.Started || s.Healthy || !s.IsLearner {
				t.Errorf("unstarted learner: %+v", s)
			}
		}
	}
	if v, h := Voters(list); v != 1 || h != 1 {
		t.Errorf("Voters = %d, %d; want 1, 1", v, h)
	}
	for voters, want := range map[int]int{1: 1, 2: 2, 3: 2, 4: 3, 5: 3} {
		if got := Quorum(voters); got != want {
			t.Errorf("Quorum(%d) = %d, want %d", voters, got, want)
		}
	}
}
