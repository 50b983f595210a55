package recovery

import (
	"os"
	"testing"
)

// TestMain lets the test binary serve as the snapshot verifier child, as
// bootstrap's main does.
func TestMain(m *testing.M) {
	ServeVerifyChild()
	os.Exit(m.Run())
}
