// Package cis evaluates the CIS Kubernetes Benchmark control-plane items
// (1.1 files, 1.2 kube-apiserver, 1.3 controller-manager, 1.4 scheduler,
// 2 etcd, 4.2 kubelet) against what bootstrap renders and what runs.
//
// Every item's result (pass, fail, n/a) and its reason are computed from
// Inputs — the rendered manifests, the asset dir's file modes, a
// KubeletConfiguration and the kubelet's flags — never written by hand.
// docs/security.md holds the table; the unit test (go test ./internal/cis,
// -update to rewrite the table) computes it from a fresh render and the
// kubelet configuration of docs/cloud-init.md, and the e2e scenario computes
// the kubelet items from the running kubelet (configz, command line) and
// compares them with the same table.
//
//	in, err := cis.LoadAssetDir(dir)
//	in.Kubelet, in.KubeletFlags = cfg, flags
//	for _, r := range cis.Evaluate(in) { fmt.Println(r.ID, r.Result, r.Why) }
//
// Numbering follows CIS Kubernetes Benchmark v1.9 as we know it; where the
// published text differs, the title in the table says which control is meant.
package cis
