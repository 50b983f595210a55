package cli

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/bootstrap-k8s/bootstrap/internal/testetcd"
	"github.com/bootstrap-k8s/bootstrap/internal/testtree"
)

// TestBadInputExitCodes: refused command lines, through the command tree as
// main runs it: the exit code, the message, and nothing written. Each case
// is a row of the bad-input table in docs/testing.md.
func TestBadInputExitCodes(t *testing.T) {
	dir := testetcd.RenderAssets(t)
	work := t.TempDir()
	existing := filepath.Join(work, "existing.db")
	os.WriteFile(existing, []byte("mine"), 0o600)
	closed := fmt.Sprintf("https://127.0.0.1:%d", testetcd.FreePort(t))
	out := filepath.Join(work, "out")
	// join's flags for a server and a pin, writing into work/node.
	joinTo := func(server, pin string) []string {
		return []string{"--server", server, "--discovery-token-ca-cert-hash", pin, "--kubernetes-dir", filepath.Join(work, "node", "etc"),
			"--kubelet-config", filepath.Join(work, "node", "kubelet", "config.yaml")}
	}
	tests := []struct {
		name string
		args []string
		code int
		want string
	}{
		{"backup without --asset-dir", []string{"backup", "--output", out}, 1, "--asset-dir is required"},
		{"backup without --output", []string{"backup", "--asset-dir", dir}, 1, "--output is required"},
		{"backup --keep -1", []string{"backup", "--asset-dir", dir, "--output", out, "--keep", "-1"}, 1, "--keep -1: give the number of snapshots to keep"},
		{"backup over an existing file", []string{"backup", "--asset-dir", dir, "--output", existing, "--etcd-endpoints", closed}, 1, "exists: pass --force"},
		{"backup --keep into a file", []string{"backup", "--asset-dir", dir, "--output", existing, "--keep", "2", "--etcd-endpoints", closed}, 1, "--keep needs a directory"},
		{"backup from an http:// endpoint", []string{"backup", "--asset-dir", dir, "--output", out, "--etcd-endpoints", "http://127.0.0.1:2379"}, 1, "only over TLS"},
		{"backup from two endpoints", []string{"backup", "--asset-dir", dir, "--output", out, "--etcd-endpoints", closed + "," + closed}, 1, "exactly one --etcd-endpoints"},
		{"backup with etcd down", []string{"backup", "--asset-dir", dir, "--output", out, "--etcd-endpoints", closed}, 1, "nothing listens there"},
		{"backup --timeout not a duration", []string{"backup", "--asset-dir", dir, "--output", out, "--timeout", "soon"}, 1, "invalid argument"},
		{"a misspelt flag", []string{"backup", "--asset-dir", dir, "--output", out, "--kepp", "1"}, 1, "unknown flag: --kepp"},
		{"recover with two sources", []string{"recover", "--asset-dir", dir, "--etcd-backup", existing, "--etcd-data-dir", work}, 3, "give one source"},
		{"recover without --asset-dir", []string{"recover", "--etcd-backup", existing}, 1, "--asset-dir is required"},
		{"recover with an asset dir that is not rendered", []string{"recover", "--asset-dir", work, "--etcd-backup", existing}, 2, "run `bootstrap render"},
		{"recover from a file that is no snapshot", []string{"recover", "--asset-dir", dir, "--etcd-backup", existing}, 1, "is not a valid etcd snapshot"},
		{"recover from a missing snapshot", []string{"recover", "--asset-dir", dir, "--etcd-backup", filepath.Join(work, "nope.db")}, 1, "no such file"},
		{"recover from an http:// etcd", []string{"recover", "--asset-dir", dir, "--etcd-endpoints", "http://127.0.0.1:2379"}, 2, "only reached over TLS"},
		{"start on an asset dir render did not write", []string{"start", "--asset-dir", work}, 2, "run"},
		{"temp-control-plane without --asset-dir", []string{"temp-control-plane"}, 1, "--asset-dir is required"},
		{"render with an invalid --pod-cidr", []string{"render", "--asset-dir", filepath.Join(work, "r"), "--advertise-address", "10.0.0.5", "--pod-cidr", "nonsense"}, 3, "networking.podCIDR"},
		{"config validate without --config", []string{"config", "validate"}, 1, "--config is required"},
		{"config validate of a missing file", []string{"config", "validate", "--config", filepath.Join(work, "nope.yaml")}, 1, "no such file"},
		{"version -o yaml", []string{"version", "-o", "yaml"}, 1, `--output "yaml": use json`},
		{"an unknown subcommand", []string{"config", "valdate"}, 1, "did you mean validate"},
		{"token create for a bridge cluster", []string{"token", "create", "--asset-dir", dir}, 3, `networking.cni is "bridge"`},
		{"token list -o yaml", []string{"token", "list", "--asset-dir", dir, "-o", "yaml"}, 3, `--output "yaml": use json`},
		{"token delete of a malformed ID", []string{"token", "delete", "--asset-dir", dir, "ABC"}, 3, "is not a token ID"},
		{"join without flags", []string{"join"}, 3, "--server is required"},
		{"join with a malformed token", append([]string{"join", "--token", "abc"}, joinTo(closed, "sha256:"+strings.Repeat("0", 64))...), 3, "--token is not a bootstrap token"},
		{"join with a malformed pin", append([]string{"join", "--token", "abcdef.0123456789abcdef"}, joinTo(closed, "0123")...), 3, "is not a CA pin"},
		{"join a server that does not answer", append([]string{"join", "--token", "abcdef.0123456789abcdef", "--timeout", "2s"}, joinTo(closed, "sha256:"+strings.Repeat("0", 64))...), 1, "cannot read cluster-info from " + closed},
		{"join a node that has joined", append([]string{"join", "--token", "abcdef.0123456789abcdef"}, append(joinTo(closed, "sha256:"+strings.Repeat("0", 64)), "--kubelet-config", existing)...), 2, "this node has joined already"},
	}
	before := testtree.Snapshot(t, dir)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, stderr, code := run(tt.args...)
			if code != tt.code || !strings.Contains(stderr, tt.want) {
				t.Errorf("exit %d, want %d with %q; stderr:\n%s", code, tt.code, tt.want, stderr)
			}
		})
	}
	if changes := before.Changes(t, dir); len(changes) > 0 {
		t.Errorf("a refused command changed the asset dir: %v", changes)
	}
	if data, _ := os.ReadFile(existing); string(data) != "mine" {
		t.Error("a refused backup changed an existing file")
	}
	for _, p := range []string{out, filepath.Join(work, "r"), filepath.Join(work, "node")} {
		if entries, _ := os.ReadDir(p); len(entries) != 0 {
			t.Errorf("a refused command wrote into %s: %v", p, entries)
		}
	}
}
