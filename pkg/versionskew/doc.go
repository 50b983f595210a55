// Package versionskew holds the Kubernetes version-skew policy as code: which
// control-plane upgrades are allowed (one minor at a time, never down) and
// which component versions may run beside which kube-apiserver.
//
// upgrade plan and apply refuse a target the policy forbids, with the rule:
//
//	from, _ := versionskew.Parse("v1.36.3")
//	to, _ := versionskew.Parse("v1.37.2")
//	if err := versionskew.CheckUpgrade(from, to); err != nil { ... }
//	for _, v := range versionskew.CheckCluster(to, components) { fmt.Println(v) }
package versionskew
