package cli

import (
	"flag"
	"io"
	"strconv"

	"github.com/spf13/cobra"
	"k8s.io/klog/v2"

	backupcmd "github.com/bootstrap-k8s/bootstrap/pkg/cli/backup"
	configcmd "github.com/bootstrap-k8s/bootstrap/pkg/cli/config"
	"github.com/bootstrap-k8s/bootstrap/pkg/cli/global"
	guardcmd "github.com/bootstrap-k8s/bootstrap/pkg/cli/guard"
	recovercmd "github.com/bootstrap-k8s/bootstrap/pkg/cli/recover"
	rendercmd "github.com/bootstrap-k8s/bootstrap/pkg/cli/render"
	startcmd "github.com/bootstrap-k8s/bootstrap/pkg/cli/start"
	tempcpcmd "github.com/bootstrap-k8s/bootstrap/pkg/cli/tempcp"
	versioncmd "github.com/bootstrap-k8s/bootstrap/pkg/cli/version"
	"github.com/bootstrap-k8s/bootstrap/pkg/etcdutil"
)

// NewRootCommand returns the `bootstrap` command with every subcommand.
func NewRootCommand(out, errOut io.Writer) *cobra.Command {
	g := &global.Options{Out: out, Err: errOut}
	root := &cobra.Command{
		Use:   "bootstrap",
		Short: "Bring up a self-hosted Kubernetes control plane on a first node, and recover it",
		Long: `bootstrap renders the assets of a self-hosted Kubernetes control plane
(PKI, kubeconfigs, manifests), brings it up on the first node with a temporary
control plane that hands over to the self-hosted one, and exits.`,
		SilenceUsage:  true,
		SilenceErrors: true,
		PersistentPreRunE: func(*cobra.Command, []string) error {
			return initKlog(g.Verbosity)
		},
	}
	root.SetOut(out)
	root.SetErr(errOut)
	root.PersistentFlags().IntVarP(&g.Verbosity, "v", "v", 0, "log detail: 1 for more progress lines, 4 and above for component debug logs")
	root.AddCommand(
		versioncmd.NewCommand(g),
		rendercmd.NewCommand(g),
		configcmd.NewCommand(g),
		startcmd.NewCommand(g),
		backupcmd.NewCommand(g),
		recovercmd.NewCommand(g),
		tempcpcmd.NewCommand(g),
		guardcmd.NewCommand(g),
	)
	return root
}

// initKlog routes the libraries' klog output to stderr at the chosen level.
func initKlog(v int) error {
	etcdutil.SetVerbosity(v)
	fs := flag.NewFlagSet("klog", flag.ContinueOnError)
	klog.InitFlags(fs)
	if err := fs.Set("v", strconv.Itoa(v)); err != nil {
		return err
	}
	return fs.Set("logtostderr", "true")
}
