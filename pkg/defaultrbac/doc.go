// Package defaultrbac creates Kubernetes' default RBAC policy (the cluster
// roles, bindings and namespaced roles that kube-apiserver's post-start hook
// rbac/bootstrap-roles reconciles) through the temporary apiserver, before
// the self-hosted kube-apiserver starts.
//
// Why: on a fresh cluster that hook creates about 140 objects, one etcd write
// each, while kube-apiserver's /readyz waits for it; it was the last check of
// the hand-over. When the objects already exist, the hook only reads and
// compares them. The hook still runs and still owns the policy: it adds what
// is missing and updates what differs, exactly as on any restart, so a policy
// created here can never leave a cluster with less than kube-apiserver
// would have created.
//
// The policy is generated from k8s.io/kubernetes (which the product must not
// import) by hack/k8s/gen-default-rbac, one file per minor version; `make
// generate` rewrites it and `make verify-generate` checks it is fresh.
//
//	if p, ok := defaultrbac.For(cfg.KubernetesVersion, cfg.APIServer.ExtraArgs); ok {
//		created, err := p.Create(ctx, tempClient)
//	}
package defaultrbac
