// Package join is the flow of `bootstrap join`: a new node joins the cluster
// as a worker with a bootstrap token and the pin of the cluster CA, as
// `kubeadm join` does.
//
//  1. check the input (token, pin, server URL) and that the node has not
//     joined yet: nothing is written before every check passed;
//  2. discovery: read the cluster-info ConfigMap (kube-public) without
//     credentials and without trusting the server yet, check the bootstrap
//     signer's signature of it with the token (the server knows the token)
//     and the CA it carries against the pin (the CA is the one the operator
//     meant); only then is the token sent, over TLS verified with that CA;
//  3. read the cluster's shared kubelet settings (kube-system/kubelet-config)
//     with the token, which also proves the apiserver accepts the token;
//  4. write the CA, the kubelet's bootstrap kubeconfig (0600) and its
//     configuration (the node's own settings from --node-kubelet-config, the
//     cluster's on top). The kubelet then TLS-bootstraps: its client CSR is
//     approved by the controller-manager (RBAC of system:bootstrappers), its
//     serving CSR by csr-approver.
package join
