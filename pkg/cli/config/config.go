// Package config implements `bootstrap config print-defaults` and
// `bootstrap config validate`.
package config

import (
	"fmt"

	"github.com/spf13/cobra"

	"github.com/bootstrap-k8s/bootstrap/pkg/apis/bootstrap/v1alpha1"
	"github.com/bootstrap-k8s/bootstrap/pkg/cli/configflags"
	"github.com/bootstrap-k8s/bootstrap/pkg/cli/global"
)

// NewCommand returns `bootstrap config`.
func NewCommand(g *global.Options) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "config",
		Short: "Work with BootstrapConfiguration files",
	}
	cmd.AddCommand(printDefaults(g), validate(g))
	return cmd
}

func printDefaults(g *global.Options) *cobra.Command {
	return &cobra.Command{
		Use:     "print-defaults",
		Short:   "Print a configuration file with every default filled in",
		Example: `  bootstrap config print-defaults > cluster.yaml`,
		Args:    cobra.NoArgs,
		RunE: func(*cobra.Command, []string) error {
			data, err := v1alpha1.MarshalDefaults()
			if err != nil {
				return err
			}
			_, err = g.Out.Write(data)
			return err
		},
	}
}

func validate(g *global.Options) *cobra.Command {
	var flags configflags.Flags
	cmd := &cobra.Command{
		Use:   "validate --config FILE",
		Short: "Check a configuration file; print every error with its field path (exit 3 when invalid)",
		Example: `  bootstrap config validate --config cluster.yaml
  bootstrap config validate --config cluster.yaml --advertise-address 10.0.0.10`,
		Args: cobra.NoArgs,
		RunE: func(*cobra.Command, []string) error {
			if flags.File == "" {
				return fmt.Errorf("--config is required: the file to validate")
			}
			c, err := flags.Load()
			if err != nil {
				return err
			}
			g.Printer().Infof("config", "%s is valid (cluster %q, Kubernetes %s)", flags.File, c.ClusterName, c.KubernetesVersion)
			return nil
		},
	}
	flags.AddFlags(cmd.Flags())
	return cmd
}
