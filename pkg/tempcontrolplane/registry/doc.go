// Package registry builds the generic-registry stores of the temporary
// apiserver: typed k8s.io/api objects, stored under kube-apiserver's keys
// (/registry/<resource>, with minions, services/specs, services/endpoints and
// shared events) as protobuf in their v1 storage version, behind the watch
// cache.
//
// It reproduces the parts of kube-apiserver's behaviour that a kubelet and the
// bootstrap flow rely on: upstream defaulting for every served kind (so that
// the kubelet never sees an unset enableServiceLinks, dnsPolicy, probe period,
// imagePullPolicy or restartPolicy), status subresources, generation bumps,
// the DaemonSet template-generation annotation, Pending + qosClass on pod
// create, graceful pod deletion, ClusterIP allocation, field selectors, short
// names, categories and namespace lifecycle.
//
// Usage:
//
//	apis, err := registry.Build(registry.Options{Etcd: transport, ServiceCIDR: "10.96.0.0/12"})
//	server.InstallLegacyAPIGroup("/api", apis.Legacy)
//	server.InstallAPIGroups(apis.Groups...)
//
// k8s.io/apiserver converts every request to an "__internal" hub version.
// Instead of writing internal types, Scheme registers each k8s.io/api type a
// second time as its own internal version, which makes the conversion a deep
// copy.
package registry
