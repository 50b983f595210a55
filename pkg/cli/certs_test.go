package cli

import (
	"encoding/json"
	"os"
	"strings"
	"testing"

	"github.com/bootstrap-k8s/bootstrap/internal/testetcd"
	"github.com/bootstrap-k8s/bootstrap/pkg/assets"
	"github.com/bootstrap-k8s/bootstrap/pkg/certs"
)

// TestCertsCommands: check-expiration lists the asset dir's certificates
// as JSON (the node and the API unreachable are reported, not fatal);
// renew maps its refusals to exit 3 (names) and 2 (preflight) and changes
// nothing.
func TestCertsCommands(t *testing.T) {
	dir := testetcd.RenderAssets(t)
	stdout, stderr, code := run("certs", "check-expiration", "--asset-dir", dir, "-o", "json", "--kubelet-dir", t.TempDir(), "--timeout", "1s")
	if code != 0 {
		t.Fatalf("check-expiration: exit %d: %s", code, stderr)
	}
	var l certs.Listing
	if err := json.Unmarshal([]byte(stdout), &l); err != nil {
		t.Fatalf("stdout is not the listing (%v): %s", err, stdout)
	}
	if len(l.Certs) < 16 || len(l.Skipped) == 0 || !strings.Contains(stderr, "[certs] ") {
		t.Errorf("listing: %d certificates, skipped %v; stderr %s", len(l.Certs), l.Skipped, stderr)
	}
	before, _ := os.ReadFile(assets.Path(dir, assets.APIServerCert))
	if _, stderr, code := run("certs", "renew", "apiserverr", "--asset-dir", dir); code != 3 || !strings.Contains(stderr, `unknown certificate "apiserverr"`) {
		t.Errorf("unknown name: exit %d: %s", code, stderr)
	}
	// Nothing of this cluster answers at its address (on some machines
	// another server does, whose certificate this CA did not sign): either
	// way a preflight refusal.
	if _, stderr, code := run("certs", "renew", "apiserver", "--asset-dir", dir, "--timeout", "1s"); code != 2 ||
		!strings.Contains(stderr, "does not answer") && !strings.Contains(stderr, "another cluster") {
		t.Errorf("API not this cluster's, no --force: exit %d: %s", code, stderr)
	}
	if after, _ := os.ReadFile(assets.Path(dir, assets.APIServerCert)); string(after) != string(before) {
		t.Error("a refused renewal changed tls/apiserver.crt")
	}
}
