package start

import (
	"bytes"
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/bootstrap-k8s/bootstrap/pkg/failure"
	"github.com/bootstrap-k8s/bootstrap/pkg/ui"
)

// TestRunAsNonRootSaysRoot: as another user start says it must run as root
// (exit 2), not that the unreadable asset dir lacks every file; with the
// Root check ignored it goes on to the asset dir check.
func TestRunAsNonRootSaysRoot(t *testing.T) {
	defer func(f func() int) { geteuid = f }(geteuid)
	geteuid = func() int { return 1000 }
	dir := t.TempDir()
	for _, tc := range []struct {
		name   string
		ignore []string
		want   string
	}{
		{"refused", nil, "must run as root (running as uid 1000)"},
		{"ignored", []string{"root"}, "lacks"},
		{"all ignored", []string{" All "}, "lacks"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var out bytes.Buffer
			err := Run(context.Background(), Options{AssetDir: dir, IgnorePreflightErrors: tc.ignore}, ui.New(&out, &out, 0))
			if !failure.IsPreflight(err) {
				t.Fatalf("err = %v (kind %v), want a preflight failure", err, failure.KindOf(err))
			}
			if !strings.Contains(err.Error(), tc.want) {
				t.Errorf("err = %q, want it to say %q", err, tc.want)
			}
		})
	}
}

// TestRunPreflightIgnoreHandling: errors fail unless ignored by name (any
// case) or "all"; warnings never fail; every problem is printed.
func TestRunPreflightIgnoreHandling(t *testing.T) {
	bad := func(context.Context) error { return errors.New("broken") }
	ok := func(context.Context) error { return nil }
	checks := []Check{
		{Name: "Good", Run: ok},
		{Name: "PortA", Run: bad},
		{Name: "PortB", Run: bad},
		{Name: "Kubelet", Warn: true, Run: bad},
	}
	for _, tc := range []struct {
		name       string
		ignore     []string
		wantFailed string // "" = no failure
		wantLines  []string
	}{
		{"none ignored", nil, "PortA, PortB", []string{"ERROR PortA: broken", "ERROR PortB: broken", "WARNING Kubelet: broken"}},
		{"one ignored", []string{"porta"}, "PortB", []string{"IGNORED PortA: broken", "ERROR PortB: broken"}},
		{"both ignored", []string{"PortA", " PortB"}, "", []string{"IGNORED PortA", "IGNORED PortB"}},
		{"all", []string{"all"}, "", []string{"IGNORED PortA", "IGNORED PortB", "WARNING Kubelet"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var out bytes.Buffer
			err := runPreflight(context.Background(), ui.New(&out, &out, 0), checks, tc.ignore)
			if tc.wantFailed == "" {
				if err != nil {
					t.Fatalf("err = %v, want none", err)
				}
			} else {
				if !failure.IsPreflight(err) {
					t.Fatalf("err = %v, want a preflight failure", err)
				}
				if !strings.Contains(err.Error(), "("+tc.wantFailed+")") {
					t.Errorf("err = %q, want it to name (%s)", err, tc.wantFailed)
				}
			}
			for _, l := range tc.wantLines {
				if !strings.Contains(out.String(), "[preflight] "+l) {
					t.Errorf("output lacks %q:\n%s", l, out.String())
				}
			}
		})
	}
}
