// Package pivot converts a running self-hosted control plane of one node
// into static pods and back (`bootstrap pivot --to static-pods|self-hosted`):
// the way out of self-hosting, without an outage.
//
// To static pods, per component (kube-apiserver first, then the
// controller-manager and the scheduler): the static pod is derived from the
// workload's LIVE pod template (whatever was applied last is kept), its
// Secret and ConfigMap volumes replaced by hostPath directories written from
// those objects (Secrets 0600, owned by the user the pod runs as); the
// workload is saved to disk for the way back; the static pod is written to
// the kubelet's staticPodPath and must serve (its mirror pod Ready, and for
// kube-apiserver fresh connections in a row answering /readyz and an
// authorized read) before the workload is deleted. kube-apiserver binds the
// wildcard address with SO_REUSEPORT (--permit-port-sharing), so the static
// one and the DaemonSet's pod share the port until the DaemonSet's pod,
// deleted, stops listening after its shutdown delay; no request fails.
//
// Back to self-hosted, the same in reverse: the saved workload (or the
// asset dir's manifest) is created, its pods must serve, then the static
// manifest is removed (etcd's never) and so are the files written for it.
//
// The guard static pod (pkg/guard) recovers a self-hosted control plane:
// the pivot to static pods removes it (the kubelet restarts static pods by
// itself), the pivot back installs it again.
//
// Every run first refuses, changing nothing: an asset dir of another
// cluster, a cluster that is not Healthy (--force for Degraded, never for
// Unhealthy), more than one control-plane node; a cluster already in the
// target mode is left as it is. Each step is idempotent: a run killed
// half-way is finished by running it again.
package pivot
