package recovery

import (
	"bytes"
	"context"
	"crypto/rand"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/bootstrap-k8s/bootstrap/internal/testetcd"
	"github.com/bootstrap-k8s/bootstrap/internal/testtree"
	"github.com/bootstrap-k8s/bootstrap/pkg/etcdutil"
	"github.com/bootstrap-k8s/bootstrap/pkg/ui"
)

// TestRecoverRefusesBadSourcesBeforeTouchingAnything: a truncated snapshot,
// random bytes, a missing file or a directory that is no etcd data dir fail
// with a clear error, and the asset dir and node are left exactly as they were.
func TestRecoverRefusesBadSourcesBeforeTouchingAnything(t *testing.T) {
	dir := testetcd.RenderAssets(t)
	m := testetcd.Start(t, dir, testetcd.Member{Name: "node-1"})
	cli, err := etcdutil.New(dir, m.ClientURL)
	if err != nil {
		t.Fatal(err)
	}
	defer cli.Close()
	for i := 0; i < 100; i++ {
		cli.Put(context.Background(), fmt.Sprintf("/registry/configmaps/default/c%d", i), strings.Repeat("x", 512))
	}
	good := filepath.Join(t.TempDir(), "good.db")
	if _, err := Backup(context.Background(), BackupOptions{AssetDir: dir, Output: good, Endpoints: []string{m.ClientURL}}); err != nil {
		t.Fatal(err)
	}
	data, _ := os.ReadFile(good)
	bad := t.TempDir()
	truncated := filepath.Join(bad, "truncated.db")
	os.WriteFile(truncated, data[:len(data)/2], 0o600)
	random := filepath.Join(bad, "random.db")
	noise := make([]byte, len(data))
	rand.Read(noise)
	os.WriteFile(random, noise, 0o600)

	tests := []struct {
		name string
		o    RecoverOptions
		want string
	}{
		{"truncated snapshot", RecoverOptions{EtcdBackup: truncated}, "not a valid etcd snapshot"},
		{"random bytes", RecoverOptions{EtcdBackup: random}, "not a valid etcd snapshot"},
		{"missing file", RecoverOptions{EtcdBackup: filepath.Join(bad, "nope.db")}, "no such file"},
		{"not a data dir", RecoverOptions{EtcdDataDir: bad}, "no such file"},
		{"two sources", RecoverOptions{EtcdBackup: good, EtcdDataDir: bad}, "give one source"},
		{"no source and no etcd where the asset dir says", RecoverOptions{}, "no etcd of this cluster answers"},
		{"data dir of a running etcd", RecoverOptions{EtcdDataDir: m.DataDir}, "in use by a running etcd"},
		{"plain-http endpoint", RecoverOptions{EtcdEndpoints: []string{"http://127.0.0.1:2379"}}, "only reached over TLS"},
		{"missing asset dir", RecoverOptions{EtcdBackup: good, AssetDir: filepath.Join(bad, "no-assets")}, "run `bootstrap render"},
	}
	before := testtree.Snapshot(t, dir)
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if tc.o.AssetDir == "" {
				tc.o.AssetDir = dir
			}
			var out bytes.Buffer
			err := Recover(context.Background(), tc.o, ui.New(&out, &out, 0))
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error %v, want it to say %q", err, tc.want)
			}
			if changes := before.Changes(t, dir); len(changes) > 0 {
				t.Errorf("the asset dir changed: %v", changes)
			}
		})
	}
}
