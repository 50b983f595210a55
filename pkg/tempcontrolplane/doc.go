// Package tempcontrolplane runs the temporary control plane of a bootstrap:
// an embedded etcd "boot member" and a small apiserver built on
// k8s.io/apiserver that stores objects exactly as kube-apiserver v1.37 does
// (same keys, protobuf encoding, storage versions), so that the self-hosted
// kube-apiserver later reads the data as if it had written it itself.
//
// Usage:
//
//	cfg, err := tempcontrolplane.FromBootstrapConfiguration(clusterCfg, assetDir)
//	cp, err := tempcontrolplane.New(cfg)
//	if err := cp.Start(ctx); err != nil { ... }   // etcd, then the apiserver; returns when ready
//	defer cp.Stop()                                // apiserver (≤ ~1 s), then etcd; data dir kept
//	cs := kubernetes.NewForConfigOrDie(cp.AdminConfig())
//	select {
//	case err := <-cp.Err(): // etcd or the apiserver failed
//	case <-done:
//	}
//
// Everything is read from a rendered asset dir (pkg/assets layout): the etcd
// CA and server/peer certificates for the member, the apiserver-etcd-client
// certificate for storage, the serving certificate and the cluster CA for the
// apiserver, and the admin kubeconfig for the loopback client.
//
// The apiserver listens with SO_REUSEPORT so that the self-hosted
// kube-apiserver (with --permit-port-sharing, same UID) can bind the same
// address:port before this one stops. Only client certificates of the cluster
// CA are accepted, and only the identities bootstrapping needs are authorized:
// system:masters, the rendered admin group, nodes, kube-controller-manager,
// kube-scheduler and kube-proxy.
//
// ListenAndHold binds the port before Start with a lobby answering it: a
// GET of one object gets 503 at once, lists, watches and writes wait and are
// served by the apiserver once it serves (with Config.ServeAfter, once the
// caller says its etcd serves). A recovery binds it so before it restores
// etcd.
//
// With Config.ExternalEtcdEndpoints no boot member starts: the apiserver
// stores into an etcd that already runs (`bootstrap recover` when only the
// API was lost), and Stop leaves that etcd alone.
//
// The served kinds, their defaults and strategies live in the registry
// subpackage; docs/tempcontrolplane.md describes the design and its limits.
package tempcontrolplane
