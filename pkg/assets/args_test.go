package assets

import (
	"slices"
	"testing"
)

// TestArgs: list flags render sets are merged with the user's (render's
// items first, then the user's new ones), other extra args are added or
// replace an allowed value, and the output is sorted.
func TestArgs(t *testing.T) {
	base := map[string]string{"enable-admission-plugins": "NodeRestriction", "controllers": "*,bootstrapsigner,tokencleaner", "tls-min-version": "VersionTLS12", "profiling": "false"}
	for _, tc := range []struct {
		name  string
		extra map[string]string
		want  []string
	}{
		{"no extra args", nil, []string{"--controllers=*,bootstrapsigner,tokencleaner", "--enable-admission-plugins=NodeRestriction", "--profiling=false", "--tls-min-version=VersionTLS12"}},
		{"admission plugins merged, order stable", map[string]string{"enable-admission-plugins": "PodSecurity, NodeRestriction,EventRateLimit"},
			[]string{"--controllers=*,bootstrapsigner,tokencleaner", "--enable-admission-plugins=NodeRestriction,PodSecurity,EventRateLimit", "--profiling=false", "--tls-min-version=VersionTLS12"}},
		{"controllers merged", map[string]string{"controllers": "-nodeipam"},
			[]string{"--controllers=*,bootstrapsigner,tokencleaner,-nodeipam", "--enable-admission-plugins=NodeRestriction", "--profiling=false", "--tls-min-version=VersionTLS12"}},
		{"allowed value replaces, new flag added", map[string]string{"tls-min-version": "VersionTLS13", "v": "2"},
			[]string{"--controllers=*,bootstrapsigner,tokencleaner", "--enable-admission-plugins=NodeRestriction", "--profiling=false", "--tls-min-version=VersionTLS13", "--v=2"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := args(base, tc.extra); !slices.Equal(got, tc.want) {
				t.Errorf("args = %q\nwant   %q", got, tc.want)
			}
		})
	}
}
