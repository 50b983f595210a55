// Package kubeapply reads the rendered manifests of an asset dir and applies
// them to whichever apiserver a rest.Config points at, with server-side apply
// as field manager "bootstrap": in tiers (namespaces, CRDs, what workloads
// refer to, workloads), retried while the cluster is still coming up, or only
// the objects that are missing (a recovery keeps what the cluster changed).
//
// start, recover and upgrade share it:
//
//	objs, err := kubeapply.ReadManifests(assets.Path(dir, assets.ManifestsDir))
//	a, err := kubeapply.NewApplier(restConfig, logf)
//	err = a.ApplyInTiers(ctx, objs, time.Minute)
package kubeapply
