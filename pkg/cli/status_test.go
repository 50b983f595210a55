package cli

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/bootstrap-k8s/bootstrap/internal/testetcd"
	statuscmd "github.com/bootstrap-k8s/bootstrap/pkg/cli/status"
	"github.com/bootstrap-k8s/bootstrap/pkg/status"
)

// TestStatusExitCodes: status's own convention, mapped here and nowhere
// else: 0 Healthy, 1 Degraded, 2 Unhealthy.
func TestStatusExitCodes(t *testing.T) {
	for state, want := range map[status.State]int{status.Healthy: 0, status.Degraded: 1, status.Unhealthy: 2, status.Unknown: 2} {
		if got := ExitCode(statuscmd.Verdict(&status.Report{Overall: state, Reason: "r"})); got != want {
			t.Errorf("%s: exit %d, want %d", state, got, want)
		}
	}
}

// TestStatusNothingAnswers: an asset dir whose node is unreachable reads
// Unhealthy (exit 2) within the deadlines, as JSON on stdout and the
// verdict on stderr; bad flags exit 3 without checking anything.
func TestStatusNothingAnswers(t *testing.T) {
	dir := testetcd.RenderAssets(t)
	begin := time.Now()
	stdout, stderr, code := run("status", "--asset-dir", dir, "-o", "json", "--timeout", "1s", "--interval", "100ms", "--unhealthy-threshold", "2")
	if code != 2 {
		t.Fatalf("exit %d, want 2 (Unhealthy): %s", code, stderr)
	}
	if took := time.Since(begin); took > 10*time.Second {
		t.Errorf("status took %s with a 1s timeout", took)
	}
	var rep status.Report
	if err := json.Unmarshal([]byte(stdout), &rep); err != nil {
		t.Fatalf("stdout is not the JSON report (%v): %s", err, stdout)
	}
	if rep.Overall != status.Unhealthy || len(rep.Rows) == 0 || rep.Thresholds.Unhealthy != 2 {
		t.Errorf("report: %+v", rep)
	}
	if !strings.Contains(stderr, "[status] Unhealthy: ") {
		t.Errorf("no verdict line on stderr: %s", stderr)
	}
	for _, args := range [][]string{{"status"}, {"status", "--asset-dir", dir, "-o", "yaml"}, {"status", "--asset-dir", dir, "--healthy-threshold", "11"}} {
		if _, stderr, code := run(args...); code != 3 {
			t.Errorf("%v: exit %d, want 3: %s", args, code, stderr)
		}
	}
}
