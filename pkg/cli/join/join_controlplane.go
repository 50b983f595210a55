package join

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/bootstrap-k8s/bootstrap/pkg/cli/global"
	"github.com/bootstrap-k8s/bootstrap/pkg/failure"
	"github.com/bootstrap-k8s/bootstrap/pkg/join"
	"github.com/bootstrap-k8s/bootstrap/pkg/ui"
)

const controlPlaneHelp = `

  - first the worker join's checks, as above;
  - it checks the asset dir (--asset-dir, the cluster's, copied here by the
    operator) is this cluster's (its CA matches the pin) and that the
    cluster has a controlPlaneEndpoint; the node signs its own etcd server
    and peer certificates for --advertise-address with the etcd CA in it
    (keys 0600 in the etcd cert dir);
  - it refuses when etcd could lose quorum (a member down, another member
    still joining) or this node has an etcd member, manifest or data already;
  - it adds the node's etcd member as a learner, writes its static pod and
    prints the kubelet's flags; once the kubelet runs, the learner catches
    up and is promoted; then the node is labelled control plane and its
    kube-apiserver (DaemonSet) starts; controller-manager and scheduler
    replicas may move there.

A worker of this cluster may run it too (e.g. after bootstrap leave).`

func addControlPlaneFlags(f *pflag.FlagSet, on *bool, cp *join.ControlPlaneOptions) {
	f.BoolVar(on, "control-plane", false, "join as a control-plane node: an etcd member, kube-apiserver, controller-manager and scheduler replicas")
	f.StringVar(&cp.AssetDir, "asset-dir", "", "the cluster's asset dir (bootstrap render's), copied by the operator; --control-plane only")
	f.StringVar(&cp.AdvertiseAddress, "advertise-address", "", "this node's IP for its etcd member and kube-apiserver; --control-plane only")
	f.StringVar(&cp.NodeName, "node-name", "", "this node's name as its kubelet registers it (default: the host name); --control-plane only")
	f.StringVar(&cp.StaticPodPath, "static-pod-path", "", "the kubelet's static pod dir (default: --node-kubelet-config's staticPodPath, else "+join.DefaultStaticPodPath+"); --control-plane only")
	f.StringVar(&cp.EtcdDataDir, "etcd-data-dir", "", "this node's etcd data dir (default: the cluster's etcd.local.dataDir); --control-plane only")
	f.StringVar(&cp.EtcdCertDir, "etcd-cert-dir", "", "where this node's etcd certificates go (default: the cluster's etcd.local.certDir); --control-plane only")
	f.DurationVar(&cp.Timeout, "control-plane-timeout", join.DefaultControlPlaneTimeout, "how long to wait for the kubelet, the etcd member and kube-apiserver; --control-plane only")
}

// noControlPlaneFlags refuses the control-plane flags on a worker join.
func noControlPlaneFlags(cmd *cobra.Command) error {
	var set []string
	for _, n := range []string{"asset-dir", "advertise-address", "node-name", "static-pod-path", "etcd-data-dir", "etcd-cert-dir", "control-plane-timeout"} {
		if cmd.Flags().Changed(n) {
			set = append(set, "--"+n)
		}
	}
	if len(set) > 0 {
		return failure.InvalidConfig(fmt.Errorf("%s only apply with --control-plane", strings.Join(set, ", ")))
	}
	return nil
}

func runControlPlane(ctx context.Context, g *global.Options, o join.Options, cp join.ControlPlaneOptions, begin time.Time) error {
	p := g.Printer()
	var printErr error
	cp.KubeletFlags = func(flags []string) {
		p.Infof("join", "Start the kubelet with the flags printed on stdout now; join waits for it")
		_, printErr = fmt.Fprintln(g.Out, strings.Join(flags, " "))
	}
	res, err := join.RunControlPlane(ctx, o, cp)
	if err != nil {
		return err
	}
	p.Infof("join", "Node joined %s as a control-plane node in %s", res.Server, ui.Seconds(time.Since(begin)))
	return printErr
}
