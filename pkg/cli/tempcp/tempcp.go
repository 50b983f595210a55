// Package tempcp implements `bootstrap temp-control-plane`: the boot etcd
// member and the temporary apiserver of `bootstrap start`, alone, in the
// foreground, for debugging and benchmarks.
package tempcp

import (
	"context"
	"fmt"
	"time"

	"github.com/spf13/cobra"

	"github.com/bootstrap-k8s/bootstrap/pkg/assets"
	"github.com/bootstrap-k8s/bootstrap/pkg/cli/configflags"
	"github.com/bootstrap-k8s/bootstrap/pkg/cli/global"
	"github.com/bootstrap-k8s/bootstrap/pkg/failure"
	"github.com/bootstrap-k8s/bootstrap/pkg/portcheck"
	"github.com/bootstrap-k8s/bootstrap/pkg/tempcontrolplane"
	"github.com/bootstrap-k8s/bootstrap/pkg/ui"
)

// processStart approximates the process start: package initialisation runs
// before main. "ready in" is measured from here, so it includes loading the
// binary and every package init, as a user (or a benchmark) experiences it.
var processStart = time.Now()

// Options are the command's flags beyond the configuration.
type Options struct {
	AssetDir    string
	EtcdDataDir string
	Timeout     time.Duration
	// AllowPortSharing lets the apiserver join a port another process
	// already listens on with SO_REUSEPORT (refused by default).
	AllowPortSharing bool
}

// NewCommand returns `bootstrap temp-control-plane`.
func NewCommand(g *global.Options) *cobra.Command {
	var o Options
	var cfg configflags.Flags
	cmd := &cobra.Command{
		Use:   "temp-control-plane --asset-dir DIR",
		Short: "Run only the boot etcd member and the temporary apiserver, until interrupted",
		Long: `temp-control-plane runs what 'bootstrap start' runs first: an embedded etcd
member on the boot ports and the temporary apiserver on the advertise address
(bound with SO_REUSEPORT, so that a self-hosted kube-apiserver can take over),
from an asset dir 'bootstrap render' wrote. It refuses (exit 2) when another
process already listens on that port, unless --allow-port-sharing is given. It stops
on SIGINT or SIGTERM; the etcd data dir is kept.

The configuration comes from the asset dir's bootstrap-config.yaml unless
--config names another file; flags override single fields.`,
		Example: `  bootstrap temp-control-plane --asset-dir /opt/bootstrap/assets
  bootstrap temp-control-plane --asset-dir ./assets --etcd-data-dir /tmp/boot-etcd
  kubectl --kubeconfig ./assets/auth/admin.kubeconfig get ns`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			abs, err := global.AssetDir(o.AssetDir)
			if err != nil {
				return err
			}
			o.AssetDir = abs
			if cfg.File == "" {
				cfg.File = assets.Path(abs, assets.ConfigFile)
			}
			ctx, stop := global.SignalContext()
			defer stop()
			return Run(ctx, g.Printer(), &cfg, o)
		},
	}
	cmd.Flags().StringVar(&o.AssetDir, "asset-dir", "", "the asset dir 'bootstrap render' wrote")
	cmd.Flags().StringVar(&o.EtcdDataDir, "etcd-data-dir", "", "boot etcd data dir (default: etcd.local.bootDataDir of the configuration)")
	cmd.Flags().DurationVar(&o.Timeout, "timeout", time.Minute, "give up if not ready after this long")
	cmd.Flags().BoolVar(&o.AllowPortSharing, "allow-port-sharing", false, "listen even when another process (a running kube-apiserver) holds the apiserver port with SO_REUSEPORT; it then answers a share of that port's connections")
	cfg.AddFlags(cmd.Flags())
	return cmd
}

// Run starts the temporary control plane and blocks until ctx ends or a
// component fails.
func Run(ctx context.Context, p *ui.Printer, flags *configflags.Flags, o Options) error {
	c, err := flags.Load()
	if err != nil {
		return err
	}
	cfg, err := tempcontrolplane.FromBootstrapConfiguration(c, o.AssetDir)
	if err != nil {
		return err
	}
	if o.EtcdDataDir != "" {
		cfg.EtcdDataDir = o.EtcdDataDir
	}
	cfg.ReadyTimeout = o.Timeout
	if err := checkPort(p, cfg.BindAddress, cfg.BindPort, o.AllowPortSharing); err != nil {
		return err
	}
	p.Infof("temp-control-plane", "Starting etcd (data dir %s, client %s) and the temporary apiserver on %s",
		cfg.EtcdDataDir, cfg.EtcdClientURL(), cfg.APIServerURL())
	cp, err := tempcontrolplane.New(cfg)
	if err != nil {
		return err
	}
	if err := cp.Start(ctx); err != nil {
		return fmt.Errorf("temporary control plane: %w", err)
	}
	p.Infof("temp-control-plane", "ready in %s", ui.Seconds(time.Since(processStart)))
	p.Infof("temp-control-plane", "admin kubeconfig: %s (points at %s)", assets.Path(o.AssetDir, assets.AdminKubeconfig), c.APIServer.ExternalURL)
	p.Infof("temp-control-plane", "Running until interrupted (Ctrl-C)")

	var runErr error
	select {
	case <-ctx.Done():
	case runErr = <-cp.Err():
	}
	stopStart := time.Now()
	stopErr := cp.Stop()
	p.Infof("temp-control-plane", "Stopped in %s; etcd data kept in %s", ui.Seconds(time.Since(stopStart)), cfg.EtcdDataDir)
	if runErr != nil {
		return runErr
	}
	return stopErr
}

// checkPort refuses an apiserver port another process listens on, unless
// sharing was asked for: the temporary apiserver binds with SO_REUSEPORT
// and would silently answer a share of that process's connections.
func checkPort(p *ui.Printer, host string, port int, allowSharing bool) error {
	holder := portcheck.Holder(host, port)
	if holder == "" {
		return nil
	}
	if !allowSharing {
		return failure.Preflight(fmt.Errorf("the apiserver port %s:%d is held by %s: the temporary apiserver would share it (SO_REUSEPORT) and answer a share of its connections from its own etcd. "+
			"Stop that process, choose another --bind-port, or pass --allow-port-sharing if sharing is what you want (nothing was started)", host, port, holder))
	}
	p.Infof("temp-control-plane", "WARNING sharing the apiserver port %s:%d with %s (--allow-port-sharing): new connections go to either", host, port, holder)
	return nil
}
