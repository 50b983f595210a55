// Package csrapprover approves the serving-certificate requests of kubelets,
// so that kube-apiserver can verify the kubelet it talks to
// (--kubelet-certificate-authority) instead of trusting a self-signed one.
//
// Kubelets with serverTLSBootstrap request their serving certificate as a
// CertificateSigningRequest for the signer kubernetes.io/kubelet-serving.
// kube-controller-manager signs such requests once approved but never
// approves them: a node's credential could otherwise obtain a certificate for
// any name or address. Approver approves a request only when it passes the
// checks kubeadm documents (Validate):
//
//   - signer kubernetes.io/kubelet-serving, requested by the user
//     system:node:<name> in the group system:nodes;
//   - subject CN=system:node:<name>, O=[system:nodes], nothing else;
//   - usages digital signature + server auth (+ key encipherment), no others;
//   - at least one SAN; DNS names and IP addresses only, each of them one the
//     Node object <name> reports in status.addresses; no email or URI SANs.
//
// A request that fails a check is left pending, never denied: the reason is
// logged (once per request and reason), an operator can still inspect and
// approve it by hand (kubectl certificate approve), and kube-controller-manager
// garbage-collects it after 24 hours. A request whose Node does not exist yet
// is retried with back-off. Requests of other signers are ignored.
//
//	a := csrapprover.New(clientset, csrapprover.Options{})
//	err := a.Run(ctx) // until ctx ends; see RunLeaderElected for replicas
package csrapprover
