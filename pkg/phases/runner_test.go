package phases

import (
	"bytes"
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/bootstrap-k8s/bootstrap/pkg/ui"
)

func TestRunner(t *testing.T) {
	var out bytes.Buffer
	r := New(ui.New(&out, &out, 0))
	var ran []string
	step := func(name string, err error) Phase {
		return Phase{Name: name, Title: "doing " + name, Run: func(context.Context) error {
			ran = append(ran, name)
			return err
		}}
	}
	skipped := step("skipped", nil)
	skipped.Skip = func(context.Context) (string, error) { return "already done", nil }
	boom := errors.New("boom")
	err := r.Run(context.Background(), step("a", nil), skipped, step("b", boom), step("c", nil))

	var pe *Error
	if !errors.As(err, &pe) || pe.Phase != "b" || !errors.Is(err, boom) {
		t.Fatalf("error %v, want phase b wrapping boom", err)
	}
	if strings.Join(ran, ",") != "a,b" {
		t.Errorf("ran %v, want a,b (skip honoured, stop at first error)", ran)
	}
	for _, line := range []string{"[a] doing a", "[a] Done in ", "[skipped] Skipped: already done", "[b] Failed after "} {
		if !strings.Contains(out.String(), line) {
			t.Errorf("output lacks %q:\n%s", line, out.String())
		}
	}
	if d := r.Durations(); len(d) != 3 || !d[1].Skipped {
		t.Errorf("durations %+v", d)
	}
}

func TestRunnerStopsOnCancelledContext(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	var out bytes.Buffer
	err := New(ui.New(&out, &out, 0)).Run(ctx, Phase{Name: "x", Run: func(context.Context) error {
		t.Error("ran after cancel")
		return nil
	}})
	if err == nil {
		t.Fatal("no error after cancel")
	}
}
