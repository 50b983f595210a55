package versionskew

import (
	"fmt"
	"strings"

	"k8s.io/apimachinery/pkg/util/version"
)

// Parse reads a Kubernetes version as a release tag ("v1.37.2"), a bare
// version ("1.37.2") or the tag of an image reference
// ("registry.k8s.io/kube-apiserver:v1.37.2").
func Parse(s string) (*version.Version, error) {
	tag := s
	if i := strings.LastIndex(s, ":"); i >= 0 && !strings.Contains(s[i:], "/") {
		tag = s[i+1:]
	}
	v, err := version.ParseSemantic(strings.TrimPrefix(tag, "v"))
	if err != nil {
		return nil, fmt.Errorf("%q is not a Kubernetes version (want vMAJOR.MINOR.PATCH): %w", s, err)
	}
	return v, nil
}

// Tag is v as a release tag, "v1.37.2".
func Tag(v *version.Version) string { return "v" + v.String() }

// RuleError is a violation of the version-skew policy: what was asked and
// the rule it breaks.
type RuleError struct {
	What, Rule string
}

func (e *RuleError) Error() string { return e.What + ": " + e.Rule }

// minorsApart is how many minors b is ahead of a (negative: behind).
func minorsApart(a, b *version.Version) int {
	return (int(b.Major())-int(a.Major()))*1000 + int(b.Minor()) - int(a.Minor())
}

// CheckUpgrade says whether the control plane may go from one version to
// another: same major, never down, at most one minor at a time.
func CheckUpgrade(from, to *version.Version) error {
	what := fmt.Sprintf("upgrading the control plane from %s to %s", Tag(from), Tag(to))
	switch {
	case from.Major() != to.Major():
		return &RuleError{what, "a major version change is not an upgrade this tool performs"}
	case to.LessThan(from):
		return &RuleError{what, "downgrades are not supported: restore the etcd backup taken before the upgrade instead (bootstrap recover --etcd-backup)"}
	case minorsApart(from, to) > 1:
		return &RuleError{what, fmt.Sprintf("the control plane upgrades one minor at a time: go to v%d.%d.x first", from.Major(), from.Minor()+1)}
	}
	return nil
}

// Component is one running piece of the cluster with its version.
type Component struct {
	// Kind is "kube-apiserver", "kube-controller-manager", "kube-scheduler",
	// "kube-proxy" or "kubelet"; Name says which one (a pod or node name).
	Kind, Name string
	Version    *version.Version
}

// CheckCluster lists the components that would break the version-skew
// policy against a control plane (kube-apiserver) at apiserver:
//   - kube-apiserver instances: within one minor of it;
//   - kube-controller-manager, kube-scheduler: not newer, at most one minor older;
//   - kubelet, kube-proxy: not newer, at most three minors older.
func CheckCluster(apiserver *version.Version, components []Component) []error {
	var errs []error
	for _, c := range components {
		d := minorsApart(c.Version, apiserver) // how far the apiserver is ahead
		what := fmt.Sprintf("%s %s at %s with kube-apiserver %s", c.Kind, c.Name, Tag(c.Version), Tag(apiserver))
		var rule string
		switch c.Kind {
		case "kube-apiserver":
			if d > 1 || d < -1 {
				rule = "kube-apiserver instances must be within one minor of each other"
			}
		case "kube-controller-manager", "kube-scheduler":
			switch {
			case d < 0:
				rule = c.Kind + " must not be newer than kube-apiserver: upgrade kube-apiserver first"
			case d > 1:
				rule = c.Kind + " may be at most one minor older than kube-apiserver: upgrade it before the next minor"
			}
		case "kubelet", "kube-proxy":
			switch {
			case d < 0:
				rule = c.Kind + " must not be newer than kube-apiserver: upgrade the control plane first"
			case d > 3:
				rule = c.Kind + " may be at most three minors older than kube-apiserver: upgrade the node before the control plane moves on"
			}
		}
		if rule != "" {
			errs = append(errs, &RuleError{what, rule})
		}
	}
	return errs
}
