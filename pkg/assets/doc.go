// Package assets turns a BootstrapConfiguration into an asset dir: the
// cluster PKI (tls/), kubeconfigs (auth/), the self-hosted control plane's
// manifests (manifests/), the persistent etcd member's static pod (static/)
// and the effective configuration. docs/assets.md describes every file.
//
//	cfg, err := v1alpha1.Load("cluster.yaml")
//	...
//	res, err := assets.Render(cfg, "/opt/bootstrap/assets", assets.Options{Logf: printer.Linef})
//
// Render is idempotent and never destroys: it reuses CAs and keys, re-issues
// a leaf only when it no longer matches the configuration, and refuses an
// asset dir that contradicts itself. Every object is a typed k8s.io/api
// struct, and every pod template is fully specified because the temporary
// apiserver that first serves it to the kubelet does not default it.
package assets
