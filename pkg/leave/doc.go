// Package leave implements `bootstrap leave`: a control-plane node gives up
// its control-plane label (its kube-apiserver drains from the load balancer
// and stops), then its etcd member (removed through the remaining members,
// and only when the rest keep quorum: checked before anything changes) and
// its etcd static pod. The node stays a worker; `bootstrap join
// --control-plane` makes it a control-plane node again.
package leave
