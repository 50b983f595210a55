// Package version implements `bootstrap version`.
package version

import (
	"encoding/json"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/bootstrap-k8s/bootstrap/pkg/cli/global"
	"github.com/bootstrap-k8s/bootstrap/pkg/version"
)

// NewCommand returns `bootstrap version`.
func NewCommand(g *global.Options) *cobra.Command {
	var output string
	cmd := &cobra.Command{
		Use:   "version",
		Short: "Print the version of bootstrap and of the components it renders by default",
		Example: `  bootstrap version
  bootstrap version -o json`,
		Args: cobra.NoArgs,
		RunE: func(*cobra.Command, []string) error {
			info := version.Get()
			switch output {
			case "json":
				data, err := json.MarshalIndent(info, "", "  ")
				if err != nil {
					return err
				}
				_, err = fmt.Fprintln(g.Out, string(data))
				return err
			case "":
				_, err := fmt.Fprintf(g.Out, "bootstrap %s (Kubernetes %s, etcd %s, %s, %s)\n",
					info.Bootstrap, info.KubernetesVersion, info.EtcdVersion, info.GoVersion, info.Platform)
				return err
			}
			return fmt.Errorf("--output %q: use json or leave it out", output)
		},
	}
	cmd.Flags().StringVarP(&output, "output", "o", "", "output format: json")
	return cmd
}
