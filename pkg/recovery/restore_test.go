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
	"github.com/bootstrap-k8s/bootstrap/pkg/etcdutil"
)

// TestRestoreBootMember: a snapshot restored as the boot member serves the
// same keys at a revision far above the original one.
func TestRestoreBootMember(t *testing.T) {
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
	if _, err := RestoreBootMember(cfg, RestoreOptions{Snapshot: snap}); err == nil || !strings.Contains(err.Error(), "--force") {
		t.Fatalf("restore over a non-empty data dir without --force: %v", err)
	}
	if _, err := os.Stat(cfg.Etcd.Local.BootDataDir); err == nil {
		t.Fatal("a refused restore created the boot data dir")
	}
	st, err := RestoreBootMember(cfg, RestoreOptions{Snapshot: snap, Force: true})
	if err != nil {
		t.Fatal(err)
	}
	if aside, _ := filepath.Glob(cfg.Etcd.Local.DataDir + ".before-recover-*"); len(aside) != 1 {
		t.Errorf("old data dir not moved aside: %v", aside)
	}

	// The restored member names its peer URL after the advertise address; run
	// it as a fresh one-member cluster on loopback, as the temporary control
	// plane does with its own config.
	restored := testetcd.Start(t, dir, testetcd.Member{Name: assets.BootEtcdMemberName, DataDir: cfg.Etcd.Local.BootDataDir,
		InitialCluster: assets.BootEtcdMemberName + "=https://10.250.0.2:12380"})
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
