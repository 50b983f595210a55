// Package start is the flow that turns one node into a self-hosted control
// plane: `bootstrap start`, and the second half of `bootstrap recover`. It
// runs a flat list of phases (pkg/phases): preflight → restore → temporary
// control plane (embedded boot etcd member + temporary apiserver) → apply
// the asset dir's manifests in tiers → wait for the node → move etcd to the
// persistent static-pod member → place the first kube-apiserver (and, when
// they reach it on loopback, controller-manager and scheduler) pods exactly
// as their DaemonSet/Deployment would → hand the API over → remove the boot
// member → wait until the control plane serves → install the guard.
//
// Every phase converges when re-run after a failure or a kill: Run first
// looks at what an earlier run left (detectState) and continues from there.
//
// Callers choose a Mode instead of setting hooks; each mode has its own
// preflight list:
//
//	// bootstrap start
//	err := start.Run(ctx, start.Options{AssetDir: dir, Wait: start.WaitControlPlane}, printer)
//
//	// recover from a snapshot or a data dir (pkg/recovery)
//	err := start.Run(ctx, start.Options{AssetDir: dir, Mode: start.Restore, Recovery: start.Recovery{
//		Restore:         restoreIntoBootMember,        // writes the saved state into the boot member's data dir
//		ClusterIdentity: checkStateIsThisCluster,      // preflight check "ClusterIdentity"
//	}}, printer)
//
//	// recover on the etcd that still runs (pkg/recovery; the guard's loop)
//	err := start.Run(ctx, start.Options{AssetDir: dir, Mode: start.RunningEtcd, Recovery: start.Recovery{
//		EtcdEndpoints: []string{"https://10.0.0.2:2379"},
//	}}, printer)
//
// Errors are marked with pkg/failure (preflight, invalid configuration);
// the command tree maps them to exit codes. The building blocks it uses
// (kubeprobe, waitfor, poddiag, portcheck, endpoints, tempcontrolplane,
// etcdutil, assets) know nothing of the flow.
package start
