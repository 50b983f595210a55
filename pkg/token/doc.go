// Package token manages bootstrap tokens as kubeadm does: a token
// "abcdef.0123456789abcdef" is the Secret kube-system/bootstrap-token-abcdef
// of type bootstrap.kubernetes.io/token. With the authentication usage the
// apiserver authenticates it as system:bootstrap:<id> in system:bootstrappers
// plus its extra groups (render binds the default group to creating node
// client CSRs and their auto-approval); with the signing usage the bootstrap
// signer controller signs the cluster-info ConfigMap with it, which is how a
// joining node verifies the server. The token cleaner controller deletes a
// token's Secret once it expires.
//
// The package also computes the CA pin a join command carries
// (sha256:<hex of the CA's SubjectPublicKeyInfo>, kubeadm's format).
package token
