package cli

import (
	"flag"
	"io"
	"strconv"

	"github.com/spf13/cobra"
	"k8s.io/klog/v2"

	backupcmd "github.com/bootstrap-k8s/bootstrap/pkg/cli/backup"
	certscmd "github.com/bootstrap-k8s/bootstrap/pkg/cli/certs"
	configcmd "github.com/bootstrap-k8s/bootstrap/pkg/cli/config"
	csrapprovercmd "github.com/bootstrap-k8s/bootstrap/pkg/cli/csrapprover"
	"github.com/bootstrap-k8s/bootstrap/pkg/cli/global"
	guardcmd "github.com/bootstrap-k8s/bootstrap/pkg/cli/guard"
	joincmd "github.com/bootstrap-k8s/bootstrap/pkg/cli/join"
	leavecmd "github.com/bootstrap-k8s/bootstrap/pkg/cli/leave"
	pivotcmd "github.com/bootstrap-k8s/bootstrap/pkg/cli/pivot"
	recovercmd "github.com/bootstrap-k8s/bootstrap/pkg/cli/recover"
	rendercmd "github.com/bootstrap-k8s/bootstrap/pkg/cli/render"
	startcmd "github.com/bootstrap-k8s/bootstrap/pkg/cli/start"
	statuscmd "github.com/bootstrap-k8s/bootstrap/pkg/cli/status"
	tempcpcmd "github.com/bootstrap-k8s/bootstrap/pkg/cli/tempcp"
	tokencmd "github.com/bootstrap-k8s/bootstrap/pkg/cli/token"
	upgradecmd "github.com/bootstrap-k8s/bootstrap/pkg/cli/upgrade"
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
	root.PersistentFlags().IntVarP(&g.Verbosity, "v", "v", 0, "log detail: 1 for more progress lines and the components' warnings, 4 and above for the components' logs")
	root.AddCommand(
		versioncmd.NewCommand(g),
		rendercmd.NewCommand(g),
		configcmd.NewCommand(g),
		startcmd.NewCommand(g),
		backupcmd.NewCommand(g),
		recovercmd.NewCommand(g),
		statuscmd.NewCommand(g),
		certscmd.NewCommand(g),
		tempcpcmd.NewCommand(g),
		guardcmd.NewCommand(g),
		csrapprovercmd.NewCommand(g),
		upgradecmd.NewCommand(g),
		tokencmd.NewCommand(g),
		joincmd.NewCommand(g),
		leavecmd.NewCommand(g),
		pivotcmd.NewCommand(g),
	)
	refuseUnknownSubcommands(root)
	return root
}

// initKlog routes the libraries' klog output to stderr at the chosen level.
// At -v 0 only errors print: the embedded apiserver and etcd client log
// info lines ("Adding GroupVersion", "Serving securely") and warnings on
// every run, which bury bootstrap's own progress lines. -v 1 to 3 add the
// warnings, -v 4 and above everything.
func initKlog(v int) error {
	etcdutil.SetVerbosity(v)
	fs := flag.NewFlagSet("klog", flag.ContinueOnError)
	klog.InitFlags(fs)
	threshold := "INFO"
	switch {
	case v == 0:
		threshold = "ERROR"
	case v < 4:
		threshold = "WARNING"
	}
	for name, value := range map[string]string{"v": strconv.Itoa(v), "logtostderr": "true",
		"legacy_stderr_threshold_behavior": "false", "stderrthreshold": threshold} {
		if err := fs.Set(name, value); err != nil {
			return err
		}
	}
	return nil
}
