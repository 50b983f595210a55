// Package guard keeps a node's self-hosted control plane running without an
// operator. It is what `bootstrap guard` runs, as a static pod that
// `bootstrap start` installs on the control-plane node.
//
// A self-hosted kube-apiserver is a DaemonSet pod: the kubelet only runs it
// when an apiserver tells it to. After a power cut, or once every
// kube-apiserver pod is gone, nothing can. The guard watches this node's
// kube-apiserver on loopback; when none has listened for DownAfter, it runs
// `bootstrap recover` on the node's running etcd — a temporary apiserver on
// that etcd, which serves the kubelet the cluster's own, current pods (the
// DaemonSet's kube-apiserver pod among them: whatever spec was last
// applied), then hands over to the self-hosted kube-apiserver and steps
// aside. When kube-apiserver serves but no controller-manager or scheduler
// has held its lease for StuckAfter (their pods were deleted, and no
// scheduler is left to place the new ones), it runs the same flow, which
// then only places what is missing. And when a kube-apiserver roll-out
// stands still because the DaemonSet controller lost its wake-up
// (rollout.go), it wakes the controller with an annotation on the new pod.
//
// Use:
//
//	err := guard.Run(ctx, guard.Options{AssetDir: "/opt/bootstrap/assets"}, printer)
//
// Run returns only when ctx is done. Every probe has a deadline; a failed
// recovery is reported and tried again after Backoff.
package guard
