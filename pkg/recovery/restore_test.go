package recovery

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	clientv3 "go.etcd.io/etcd/client/v3"

	"github.com/bootstrap-k8s/bootstrap/internal/testetcd"
	"github.com/bootstrap-k8s/bootstrap/pkg/apis/bootstrap/v1alpha1"
	"github.com/bootstrap-k8s/bootstrap/pkg/assets"
	"github.com/bootstrap-k8s/bootstrap/pkg/endpoints"
	"github.com/bootstrap-k8s/bootstrap/pkg/etcdutil"
)

// TestRestoreMember: a snapshot restored as this node's persistent member
// serves the same keys at a revision far above the original one.
func TestRestoreMember(t *testing.T) {
	dir := testetcd.RenderAssets(t)
	src := testetcd.Start(t, dir, testetcd.Member{Name: "node-1"})
	ctx := context.Background()
	cli, err := etcdutil.New(dir, src.ClientURL)
	if err != nil {
		t.Fatal(err)
	}
	defer cli.Close()
	for i := 0; i < 20; i++ {
		cli.Put(ctx, fmt.Sprintf("/registry/secrets/default/s-%d", i), "v")
	}
	before, _ := cli.Get(ctx, "/registry/secrets/default/s-0")
	snap := filepath.Join(t.TempDir(), "snap.db")
	if _, err := Backup(ctx, BackupOptions{AssetDir: dir, Output: snap, Endpoints: []string{src.ClientURL}}); err != nil {
		t.Fatal(err)
	}

	cfg, err := v1alpha1.Load(assets.Path(dir, assets.ConfigFile))
	if err != nil {
		t.Fatal(err)
	}
	work := t.TempDir()
	cfg.Etcd.Local.BootDataDir = filepath.Join(work, "boot")
	cfg.Etcd.Local.DataDir = filepath.Join(work, "etcd")
	os.MkdirAll(cfg.Etcd.Local.DataDir, 0o700)
	os.WriteFile(filepath.Join(cfg.Etcd.Local.DataDir, "old"), []byte("x"), 0o600)
	if _, err := RestoreMember(cfg, RestoreOptions{Snapshot: snap}); err == nil || !strings.Contains(err.Error(), "--force") {
		t.Fatalf("restore over a non-empty data dir without --force: %v", err)
	}
	if _, err := os.Stat(filepath.Join(cfg.Etcd.Local.DataDir, "old")); err != nil {
		t.Fatalf("a refused restore touched the data dir: %v", err)
	}
	st, err := RestoreMember(cfg, RestoreOptions{Snapshot: snap, Force: true})
	if err != nil {
		t.Fatal(err)
	}
	if aside, _ := filepath.Glob(cfg.Etcd.Local.DataDir + ".before-recover-*"); len(aside) != 1 {
		t.Errorf("old data dir not moved aside: %v", aside)
	}

	// The restored member is the node's own (node.name, its peer URL on the
	// advertise address), as the etcd static pod runs it.
	restored := testetcd.Start(t, dir, testetcd.Member{Name: cfg.Node.Name, DataDir: cfg.Etcd.Local.DataDir,
		InitialCluster: cfg.Node.Name + "=" + endpoints.EtcdPeer(cfg)})
	rcli, err := etcdutil.New(dir, restored.ClientURL)
	if err != nil {
		t.Fatal(err)
	}
	defer rcli.Close()
	got, err := rcli.Get(ctx, "/registry/secrets/default/", clientv3.WithPrefix())
	if err != nil {
		t.Fatal(err)
	}
	if len(got.Kvs) != 20 {
		t.Errorf("restored %d keys, want 20", len(got.Kvs))
	}
	if got.Header.Revision < before.Header.Revision+RevisionBump {
		t.Errorf("restored revision %d, want ≥ %d + %d", got.Header.Revision, before.Header.Revision, RevisionBump)
	}
	if st.TotalKey < 20 {
		t.Errorf("status %+v", st)
	}
}
