package cli

import (
	"os"
	"testing"

	"github.com/bootstrap-k8s/bootstrap/pkg/recovery"
)

// TestMain lets the test binary serve as the snapshot verifier child, as
// cmd/bootstrap's main does, so that commands run in-process verify
// snapshots exactly as the real binary does.
func TestMain(m *testing.M) {
	recovery.ServeVerifyChild()
	os.Exit(m.Run())
}
