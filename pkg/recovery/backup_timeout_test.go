package recovery

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/bootstrap-k8s/bootstrap/internal/testetcd"
)

// TestBackupNeverHangs: every endpoint that cannot give a snapshot fails
// within a bounded time, names the endpoint and the likely cause, and
// writes nothing (issue 17 item 2).
func TestBackupNeverHangs(t *testing.T) {
	dir, m := memberWithKeys(t)
	other := testetcd.RenderAssets(t)
	tests := []struct {
		name, assetDir, endpoint, want string
		timeout, bound                 time.Duration
	}{
		{"etcd down", dir, fmt.Sprintf("https://127.0.0.1:%d", testetcd.FreePort(t)), "nothing listens there", 0, 2 * time.Second},
		{"http:// endpoint", dir, "http://127.0.0.1:2379", "only over TLS", 0, time.Second},
		{"wrong CA", other, m.ClientURL, "not signed by this asset dir's etcd CA", 0, 3 * time.Second},
		{"accepts and never answers", dir, testetcd.SilentListener(t), "does not complete a TLS handshake", 0, 8 * time.Second},
		{"TLS answers, the snapshot never comes", dir, testetcd.SilentTLSListener(t, dir), "did not finish within --timeout 3s", 3 * time.Second, 6 * time.Second},
		{"two endpoints", dir, m.ClientURL + "," + m.ClientURL, "exactly one --etcd-endpoints", 0, time.Second},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out := t.TempDir()
			begin := time.Now()
			_, err := Backup(context.Background(), BackupOptions{AssetDir: tt.assetDir, Output: out, Keep: 1,
				Endpoints: strings.Split(tt.endpoint, ","), Timeout: tt.timeout})
			if took := time.Since(begin); took > tt.bound {
				t.Errorf("took %s, want under %s", took, tt.bound)
			}
			if err == nil || !strings.Contains(err.Error(), tt.want) || !strings.Contains(err.Error(), strings.Split(tt.endpoint, ",")[0]) {
				t.Errorf("error %v: want the endpoint and %q", err, tt.want)
			}
			if left, _ := filepath.Glob(filepath.Join(out, "*")); len(left) != 0 {
				t.Errorf("a failed backup left %v", left)
			}
			if hidden, _ := filepath.Glob(filepath.Join(out, ".*")); len(hidden) != 0 {
				t.Errorf("a failed backup left %v", hidden)
			}
		})
	}
	if _, err := os.Stat(dir); err != nil {
		t.Fatal(err)
	}
}
