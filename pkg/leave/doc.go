// Package leave implements `bootstrap leave`: a control-plane node gives up
// its etcd member (removed first, through the remaining members, and only
// when the rest keep quorum), then its etcd static pod and its
// control-plane label, which ends its kube-apiserver. The node stays a
// worker; `bootstrap join --control-plane` makes it a control-plane node
// again.
package leave
