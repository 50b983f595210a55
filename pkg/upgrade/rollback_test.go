package upgrade

import (
	"testing"
	"time"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
)

func TestRollBackTimeoutAddsTheGracePeriod(t *testing.T) {
	withGrace := func(grace any) *unstructured.Unstructured {
		spec := map[string]any{}
		if grace != nil {
			spec["terminationGracePeriodSeconds"] = grace
		}
		return &unstructured.Unstructured{Object: map[string]any{"spec": map[string]any{"template": map[string]any{"spec": spec}}}}
	}
	for _, tc := range []struct {
		name     string
		previous *unstructured.Unstructured
		want     time.Duration
	}{
		{"kube-apiserver's 60 s", withGrace(int64(60)), 135 * time.Second},
		{"unset: the API's default 30 s", withGrace(nil), 105 * time.Second},
		{"not a number: the default", withGrace("60"), 105 * time.Second},
	} {
		if got := rollBackTimeout(75*time.Second, tc.previous); got != tc.want {
			t.Errorf("%s: %s, want %s", tc.name, got, tc.want)
		}
	}
}
