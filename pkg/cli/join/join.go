// Package join implements `bootstrap join`.
package join

import (
	"fmt"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/bootstrap-k8s/bootstrap/pkg/cli/global"
	"github.com/bootstrap-k8s/bootstrap/pkg/join"
	"github.com/bootstrap-k8s/bootstrap/pkg/ui"
)

// NewCommand returns `bootstrap join`.
func NewCommand(g *global.Options) *cobra.Command {
	var o join.Options
	var cp join.ControlPlaneOptions
	var controlPlane bool
	cmd := &cobra.Command{
		Use:   "join --server URL --token TOKEN --discovery-token-ca-cert-hash sha256:HASH",
		Short: "Join this node to the cluster as a worker, or with --control-plane as a control-plane node",
		Long: `join checks the cluster as kubeadm join does, then writes the kubelet's files:

  - it reads the cluster-info ConfigMap from --server without trusting the
    server, checks the bootstrap signer's signature of it with the token, and
    the cluster CA in it against --discovery-token-ca-cert-hash; a server
    whose CA does not match is refused;
  - over TLS verified with that CA it reads the cluster's kubelet settings
    with the token (the apiserver rejecting the token ends the join here);
  - it writes <kubernetes-dir>/pki/ca.crt, <kubernetes-dir>/bootstrap-kubelet.conf
    (0600) and the kubelet configuration (--node-kubelet-config's settings with
    the cluster's on top), and prints the kubelet's flags on stdout.

The kubelet then asks for its client certificate with the token; the
controller-manager approves it, the node registers, and kube-proxy and the
pod network start there. join writes nothing unless every check passed, and
replaces no file: a node that has joined already is refused (exit 2).
Invalid flags exit 3; a cluster that cannot be verified exits 1.

With --control-plane (and --asset-dir, --advertise-address) the node also
runs an etcd member and the control plane (docs/ha.md):` + controlPlaneHelp,
		Example: `  # on the control plane:
  bootstrap token create --asset-dir /opt/bootstrap/assets
  # on the new node, what it printed:
  bootstrap join --server https://10.0.0.10:6443 --token abcdef.0123456789abcdef \
    --discovery-token-ca-cert-hash sha256:4f2c...e1 --node-kubelet-config /etc/kubernetes/node-kubelet.yaml
  kubelet $(bootstrap join ...) --container-runtime-endpoint=unix:///run/containerd/containerd.sock
  # a control-plane node (the cluster rendered with --control-plane-endpoint;
  # the asset dir copied from the operator; the kubelet unit starts once
  # the flags are printed, join waits for it):
  bootstrap join --control-plane --asset-dir /opt/bootstrap/assets --advertise-address 10.0.0.12 \
    --server https://k8s.example.com:6443 --token abcdef.0123456789abcdef --discovery-token-ca-cert-hash sha256:4f2c...e1`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			p := g.Printer()
			o.Logf = p.Infof
			ctx, stop := global.SignalContext()
			defer stop()
			begin := time.Now()
			if controlPlane {
				return runControlPlane(ctx, g, o, cp, begin)
			}
			if err := noControlPlaneFlags(cmd); err != nil {
				return err
			}
			res, err := join.Run(ctx, o)
			if err != nil {
				return err
			}
			p.Infof("join", "Ready to join %s in %s: start the kubelet with the flags printed on stdout; it gets its certificate from the cluster", res.Server, ui.Seconds(time.Since(begin)))
			_, err = fmt.Fprintln(g.Out, strings.Join(res.KubeletFlags, " "))
			return err
		},
	}
	f := cmd.Flags()
	f.StringVar(&o.Server, "server", "", "the cluster's apiserver, https://HOST:PORT")
	f.StringVar(&o.Token, "token", "", "the bootstrap token (bootstrap token create)")
	f.StringSliceVar(&o.CAHashes, "discovery-token-ca-cert-hash", nil, "pin of the cluster CA, sha256:<hex of its public key>; the server's CA must match one")
	f.StringVar(&o.KubernetesDir, "kubernetes-dir", join.DefaultKubernetesDir, "where pki/ca.crt and bootstrap-kubelet.conf go, and the kubelet writes kubelet.conf")
	f.StringVar(&o.KubeletConfig, "kubelet-config", join.DefaultKubeletConfig, "where the kubelet configuration is written")
	f.StringVar(&o.NodeKubeletConfig, "node-kubelet-config", "", "a KubeletConfiguration with this node's own settings (runtime endpoint, cgroup driver, paths)")
	f.DurationVar(&o.Timeout, "timeout", join.DefaultTimeout, "give up reaching the server after this long")
	addControlPlaneFlags(f, &controlPlane, &cp)
	return cmd
}
