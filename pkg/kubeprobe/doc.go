// Package kubeprobe asks a kube-apiserver (or any Kubernetes-style HTTPS
// endpoint) whether it serves, through a client with a transport of its own
// per probe.
//
// client-go shares transports, and so connections, between equal configs:
// every probe would then reach whichever server accepted the first
// connection. During a hand-over two apiservers share a port (SO_REUSEPORT),
// so a probe must open a fresh connection to see which one answers now.
//
//	c, err := kubeprobe.Fresh(adminConfig) // one HTTP/1.1 connection
//	if err != nil { ... }
//	defer c.Close()
//	info, err := c.Version()    // GET /version through discovery
//	err = c.Ready(ctx)          // GET /readyz
//	err = c.CanRead(ctx)        // an authorized read: RBAC caches filled
//	if kubeprobe.IsDialError(err) { /* nothing listens there */ }
//
// HTTPGetOK probes plain endpoints (a kubelet's /healthz) with a caller's
// http.Client.
package kubeprobe
