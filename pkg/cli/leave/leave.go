// Package leave implements `bootstrap leave`.
package leave

import (
	"encoding/json"
	"fmt"
	"time"

	"github.com/spf13/cobra"

	"github.com/bootstrap-k8s/bootstrap/pkg/cli/global"
	"github.com/bootstrap-k8s/bootstrap/pkg/leave"
	"github.com/bootstrap-k8s/bootstrap/pkg/ui"
)

// NewCommand returns `bootstrap leave`.
func NewCommand(g *global.Options) *cobra.Command {
	var o leave.Options
	var output string
	cmd := &cobra.Command{
		Use:   "leave --asset-dir DIR --advertise-address IP",
		Short: "Remove this control-plane node's etcd member and control plane; it stays a worker",
		Long: `leave, on a control-plane node that bootstrap join --control-plane made:

  1. checks, through the other members, that removing its etcd member
     keeps quorum; it refuses (exit 2, nothing changed) for the last
     member, 1 of 2 (join a third first), or too few of the others
     answering;
  2. removes the node's control-plane label: its kube-apiserver
     (DaemonSet) fails /readyz, drains from the load balancer during its
     shutdown delay and stops; controller-manager and scheduler replicas
     move;
  3. once nothing listens on the node's secure port, removes the etcd
     member through the other members, then the etcd static pod (the
     kubelet stops the member), moves the member's data dir aside
     (<dir>.removed-<unix time>) and deletes its server and peer
     certificates.

The node stays a worker of the cluster; bootstrap join --control-plane
makes it a control-plane node again. Re-running after an interruption
finishes the cleanup.`,
		Example: `  bootstrap leave --asset-dir /opt/bootstrap/assets --advertise-address 10.0.0.12
  bootstrap leave --asset-dir /opt/bootstrap/assets --advertise-address 10.0.0.12 -o json`,
		Args: cobra.NoArgs,
		RunE: func(*cobra.Command, []string) error {
			p := g.Printer()
			o.Logf = p.Infof
			ctx, stop := global.SignalContext()
			defer stop()
			begin := time.Now()
			res, err := leave.Run(ctx, o)
			if err != nil {
				return err
			}
			p.Infof("leave", "Node %s left the control plane in %s; %d etcd members remain", o.NodeName, ui.Seconds(time.Since(begin)), res.Remaining)
			if output == "json" {
				return json.NewEncoder(g.Out).Encode(struct {
					Node           string `json:"node"`
					RemovedMember  string `json:"removedMember"`
					Remaining      int    `json:"remainingMembers"`
					DataDirMovedTo string `json:"dataDirMovedTo,omitempty"`
				}{o.NodeName, res.RemovedMember, res.Remaining, res.DataDirMovedTo})
			}
			_, err = fmt.Fprintf(g.Out, "node %s left: %d etcd members remain\n", o.NodeName, res.Remaining)
			return err
		},
	}
	f := cmd.Flags()
	f.StringVar(&o.AssetDir, "asset-dir", "", "the cluster's asset dir (etcd client certificate, admin kubeconfig)")
	f.StringVar(&o.AdvertiseAddress, "advertise-address", "", "this node's IP, as given to bootstrap join --control-plane")
	f.StringVar(&o.NodeName, "node-name", "", "this node's name (default: the host name)")
	f.StringVar(&o.StaticPodPath, "static-pod-path", "/etc/kubernetes/manifests", "the kubelet's static pod dir")
	f.StringVar(&o.EtcdDataDir, "etcd-data-dir", "", "this node's etcd data dir (default: the cluster's etcd.local.dataDir)")
	f.StringVar(&o.EtcdCertDir, "etcd-cert-dir", "", "this node's etcd certificate dir (default: the cluster's etcd.local.certDir)")
	f.DurationVar(&o.Timeout, "timeout", 2*time.Minute, "give up the membership change after this long")
	f.StringVarP(&output, "output", "o", "", "json: print the result as JSON")
	return cmd
}
