package versionskew

import (
	"strings"
	"testing"
)

func mustParse(t *testing.T, s string) Component {
	t.Helper()
	v, err := Parse(s)
	if err != nil {
		t.Fatal(err)
	}
	return Component{Version: v}
}

func TestParse(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"v1.37.2", "v1.37.2"},
		{"1.36.3", "v1.36.3"},
		{"registry.k8s.io/kube-apiserver:v1.36.3", "v1.36.3"},
		{"localhost:5000/k8s/kube-proxy:v1.37.0-rc.1", "v1.37.0-rc.1"},
	} {
		v, err := Parse(tc.in)
		if err != nil || Tag(v) != tc.want {
			t.Errorf("Parse(%q) = %v, %v; want %s", tc.in, v, err, tc.want)
		}
	}
	for _, bad := range []string{"", "latest", "registry.k8s.io/kube-apiserver", "v1.37"} {
		if _, err := Parse(bad); err == nil {
			t.Errorf("Parse(%q) accepted", bad)
		}
	}
}

func TestCheckUpgrade(t *testing.T) {
	for _, tc := range []struct {
		from, to, want string // want: "" = allowed, else a part of the rule
	}{
		{"v1.36.3", "v1.37.2", ""},
		{"v1.37.1", "v1.37.2", ""},
		{"v1.37.2", "v1.37.2", ""},
		{"v1.35.0", "v1.37.2", "one minor at a time: go to v1.36.x first"},
		{"v1.37.2", "v1.36.3", "downgrades are not supported"},
		{"v1.37.2", "v1.37.1", "downgrades are not supported"},
		{"v1.37.2", "v2.0.0", "major version"},
	} {
		err := CheckUpgrade(mustParse(t, tc.from).Version, mustParse(t, tc.to).Version)
		switch {
		case tc.want == "" && err != nil:
			t.Errorf("%s -> %s refused: %v", tc.from, tc.to, err)
		case tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want)):
			t.Errorf("%s -> %s: got %v, want an error with %q", tc.from, tc.to, err, tc.want)
		}
	}
}

func TestCheckCluster(t *testing.T) {
	for _, tc := range []struct {
		kind, version, apiserver, want string
	}{
		{"kubelet", "v1.36.3", "v1.37.2", ""},
		{"kubelet", "v1.34.0", "v1.37.2", ""},
		{"kubelet", "v1.33.9", "v1.37.2", "at most three minors older"},
		{"kubelet", "v1.37.2", "v1.36.3", "must not be newer"},
		{"kube-proxy", "v1.38.0", "v1.37.2", "must not be newer"},
		{"kube-controller-manager", "v1.36.3", "v1.37.2", ""},
		{"kube-controller-manager", "v1.35.0", "v1.37.2", "at most one minor older"},
		{"kube-scheduler", "v1.37.2", "v1.36.3", "upgrade kube-apiserver first"},
		{"kube-apiserver", "v1.36.3", "v1.37.2", ""},
		{"kube-apiserver", "v1.35.3", "v1.37.2", "within one minor"},
	} {
		c := mustParse(t, tc.version)
		c.Kind, c.Name = tc.kind, "x"
		errs := CheckCluster(mustParse(t, tc.apiserver).Version, []Component{c})
		switch {
		case tc.want == "" && len(errs) > 0:
			t.Errorf("%s %s beside %s refused: %v", tc.kind, tc.version, tc.apiserver, errs)
		case tc.want != "" && (len(errs) != 1 || !strings.Contains(errs[0].Error(), tc.want)):
			t.Errorf("%s %s beside %s: got %v, want an error with %q", tc.kind, tc.version, tc.apiserver, errs, tc.want)
		}
	}
}
