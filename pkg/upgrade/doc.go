// Package upgrade moves a running self-hosted control plane to another
// Kubernetes version (or configuration) component by component, the safe
// path beside a plain `kubectl apply -f manifests/`.
//
// Plan reads the cluster and says what differs from the target and in
// which order it would change; Apply takes a verified etcd snapshot,
// re-renders the asset dir, then applies kube-apiserver, controller-manager,
// scheduler, kube-proxy and the add-ons one at a time, waiting for each to
// serve (not just run) before the next. A component that does not become
// healthy within its deadline is rolled back to the template it ran before,
// the asset dir is restored, and Apply returns which pod failed and why.
//
//	plan, err := upgrade.MakePlan(ctx, upgrade.Options{AssetDir: dir, To: "v1.37.2"})
//	fmt.Print(plan.Table())
//	res, err := upgrade.Apply(ctx, upgrade.Options{AssetDir: dir, To: "v1.37.2", Logf: logf})
//
// Kubelets are a node step (replace the binary, restart it): Plan lists
// them, Apply checks that none would break the version-skew policy.
package upgrade
