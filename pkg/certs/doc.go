// Package certs is the flow behind `bootstrap certs check-expiration` and
// `bootstrap certs renew`: it lists every certificate of a cluster — the
// asset dir's, the copies the running components read (the control-plane
// Secrets, the etcd member's files in etcd.local.certDir, the kubelet's
// rotated certificates) and what each server actually presents to a TLS
// client — and renews leaf certificates with the same CAs, rolling the
// components so that no request fails: kube-apiserver surges a new pod
// beside the old one, and etcd, which reads its certificate files on every
// TLS handshake, is restarted only if it keeps serving the old one.
//
//	list, err := certs.List(ctx, certs.Options{AssetDir: dir})
//	res, err := certs.Renew(ctx, certs.RenewOptions{Options: o, Names: []string{"all"}}, printer)
package certs
