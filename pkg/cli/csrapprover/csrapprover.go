// Package csrapprover implements `bootstrap csr-approver`, the in-cluster
// agent that approves kubelet serving-certificate requests (pkg/csrapprover).
package csrapprover

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"time"

	"github.com/spf13/cobra"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"

	"github.com/bootstrap-k8s/bootstrap/pkg/cli/global"
	"github.com/bootstrap-k8s/bootstrap/pkg/csrapprover"
)

type options struct {
	kubeconfig     string
	leaderElect    bool
	leaseNamespace string
	leaseName      string
	healthzAddress string
}

// NewCommand returns `bootstrap csr-approver`.
func NewCommand(g *global.Options) *cobra.Command {
	o := options{}
	cmd := &cobra.Command{
		Use:   "csr-approver [--kubeconfig FILE]",
		Short: "Approve kubelet serving-certificate requests that match their Node (runs in the cluster)",
		Long: `csr-approver approves CertificateSigningRequests for the signer
kubernetes.io/kubelet-serving when the requester is the node itself
(system:node:<name>, group system:nodes), the subject is CN=system:node:<name>,
O=system:nodes, the usages are digital signature + server auth (+ key
encipherment), and every SAN is a host name or address in the Node's
status.addresses. Other requests are left pending and the reason is logged.

render deploys it in kube-system (manifests/14-csr-approver.yaml) with the
in-cluster credential of its ServiceAccount; it runs until it is stopped.`,
		Example: `  # in the cluster (what the rendered Deployment runs):
  bootstrap csr-approver
  # by hand, against a cluster:
  bootstrap csr-approver --kubeconfig assets/auth/admin.kubeconfig --leader-elect=false`,
		Args: cobra.NoArgs,
		RunE: func(*cobra.Command, []string) error {
			ctx, stop := global.SignalContext()
			defer stop()
			return run(ctx, g, o)
		},
	}
	f := cmd.Flags()
	f.StringVar(&o.kubeconfig, "kubeconfig", "", "kubeconfig to use (default: the pod's in-cluster ServiceAccount credential)")
	f.BoolVar(&o.leaderElect, "leader-elect", true, "approve only while holding the lease, so that one of several replicas acts")
	f.StringVar(&o.leaseNamespace, "lease-namespace", "kube-system", "namespace of the leader lease")
	f.StringVar(&o.leaseName, "lease-name", "bootstrap-csr-approver", "name of the leader lease")
	f.StringVar(&o.healthzAddress, "healthz-address", "127.0.0.1:10271", "where /healthz answers (for the pod's probes); empty for none")
	return cmd
}

func run(ctx context.Context, g *global.Options, o options) error {
	cfg, err := restConfig(o.kubeconfig)
	if err != nil {
		return err
	}
	cfg.UserAgent = "bootstrap-csr-approver"
	cs, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		return err
	}
	if o.healthzAddress != "" {
		if err := serveHealthz(ctx, o.healthzAddress); err != nil {
			return err
		}
	}
	p := g.Printer()
	a := csrapprover.New(cs, csrapprover.Options{Logf: func(format string, args ...any) { p.Infof("csr-approver", format, args...) }})
	if !o.leaderElect {
		return a.Run(ctx)
	}
	id, err := os.Hostname()
	if err != nil {
		return fmt.Errorf("leader identity: %w", err)
	}
	err = a.RunLeaderElected(ctx, csrapprover.Lease{Namespace: o.leaseNamespace, Name: o.leaseName, Identity: id})
	if errors.Is(err, csrapprover.ErrLostLease) {
		return fmt.Errorf("%w: exiting so that the pod restarts as a follower", err)
	}
	return err
}

func restConfig(kubeconfig string) (*rest.Config, error) {
	if kubeconfig != "" {
		cfg, err := clientcmd.BuildConfigFromFlags("", kubeconfig)
		if err != nil {
			return nil, fmt.Errorf("--kubeconfig %s: %w", kubeconfig, err)
		}
		return cfg, nil
	}
	cfg, err := rest.InClusterConfig()
	if err != nil {
		return nil, fmt.Errorf("no --kubeconfig and not in a pod (%w): pass --kubeconfig FILE", err)
	}
	return cfg, nil
}

// serveHealthz answers the pod's probes: the process runs and its flags were
// good. Whether it leads is in its log and the Lease.
func serveHealthz(ctx context.Context, addr string) error {
	l, err := net.Listen("tcp", addr)
	if err != nil {
		return fmt.Errorf("--healthz-address %s: %w", addr, err)
	}
	mux := http.NewServeMux()
	mux.HandleFunc("/healthz", func(w http.ResponseWriter, _ *http.Request) { _, _ = w.Write([]byte("ok")) })
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 5 * time.Second}
	go func() { _ = srv.Serve(l) }()
	go func() {
		<-ctx.Done()
		_ = srv.Close()
	}()
	return nil
}
