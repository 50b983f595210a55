// Package status is the flow behind `bootstrap status`: it checks every
// component of a self-hosted control plane — etcd members, each
// kube-apiserver instance on its node, the controllers and their leases,
// kube-proxy, CoreDNS, the pod network, the guard, the kubelets — and
// judges the whole as Healthy, Degraded or Unhealthy.
//
// Every probe has a deadline (Thresholds.Timeout), and a check changes state
// only after Thresholds.Healthy consecutive successes or Thresholds.Unhealthy
// consecutive failures, as a load balancer's health check does: one lost
// packet does not make a component unhealthy. When the Kubernetes API does
// not answer, the checks that need it say so and the others (etcd, the
// kubelet's healthz, the static pods on disk) still run.
//
//	rep, err := status.Check(ctx, status.Options{AssetDir: dir})
//	rep.Overall // Healthy, Degraded or Unhealthy
package status
