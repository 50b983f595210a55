package failure

import (
	"errors"
	"fmt"
	"testing"
)

func TestKindOf(t *testing.T) {
	base := errors.New("port 6443 is in use")
	for _, tc := range []struct {
		name string
		err  error
		want Kind
	}{
		{"plain", base, KindGeneral},
		{"preflight", Preflight(base), KindPreflight},
		{"invalid", InvalidConfig(base), KindInvalidConfig},
		{"wrapped by fmt", fmt.Errorf("start: %w", Preflight(base)), KindPreflight},
		{"joined", errors.Join(errors.New("x"), InvalidConfig(base)), KindInvalidConfig},
		{"outermost wins", InvalidConfig(Preflight(base)), KindInvalidConfig},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := KindOf(tc.err); got != tc.want {
				t.Errorf("KindOf = %v, want %v", got, tc.want)
			}
			if !errors.Is(tc.err, base) {
				t.Errorf("the chain lost the cause")
			}
			if tc.err.Error() == "" {
				t.Errorf("empty message")
			}
		})
	}
}

func TestNilStaysNil(t *testing.T) {
	if Preflight(nil) != nil || InvalidConfig(nil) != nil {
		t.Fatal("a nil error became non-nil")
	}
	if IsPreflight(nil) {
		t.Fatal("nil is a preflight failure")
	}
}
