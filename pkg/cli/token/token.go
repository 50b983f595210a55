// Package token implements `bootstrap token create|list|delete`.
package token

import (
	"encoding/json"
	"fmt"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/clientcmd"
	certutil "k8s.io/client-go/util/cert"

	"github.com/bootstrap-k8s/bootstrap/pkg/apis/bootstrap/v1alpha1"
	"github.com/bootstrap-k8s/bootstrap/pkg/assets"
	"github.com/bootstrap-k8s/bootstrap/pkg/cli/global"
	"github.com/bootstrap-k8s/bootstrap/pkg/failure"
	"github.com/bootstrap-k8s/bootstrap/pkg/token"
)

// NewCommand returns `bootstrap token`.
func NewCommand(g *global.Options) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "token",
		Short: "Create, list and delete the bootstrap tokens new nodes join with",
		Long: `A bootstrap token lets a new node join: 'bootstrap join' checks the cluster
with it (the bootstrap signer signs cluster-info with every valid token) and
the kubelet authenticates with it to ask for its client certificate, which
the controller-manager approves. Tokens are Secrets in kube-system, as
kubeadm's; the token cleaner deletes them once they expire.`,
		Example: `  bootstrap token create --asset-dir /opt/bootstrap/assets
  bootstrap token list --asset-dir /opt/bootstrap/assets
  bootstrap token delete --asset-dir /opt/bootstrap/assets abcdef`,
		Args: cobra.NoArgs,
	}
	cmd.AddCommand(createCommand(g), listCommand(g), deleteCommand(g))
	return cmd
}

type common struct {
	assetDir string
	output   string
}

func (c *common) addFlags(cmd *cobra.Command) {
	cmd.Flags().StringVar(&c.assetDir, "asset-dir", "", "the cluster's asset dir (its admin kubeconfig and configuration)")
	cmd.Flags().StringVarP(&c.output, "output", "o", "", "output format: json")
}

func (c *common) check() (string, error) {
	if c.output != "" && c.output != "json" {
		return "", failure.InvalidConfig(fmt.Errorf("--output %q: use json or leave it out", c.output))
	}
	return global.AssetDir(c.assetDir)
}

func adminClient(dir string) (kubernetes.Interface, error) {
	cfg, err := clientcmd.BuildConfigFromFlags("", assets.Path(dir, assets.AdminKubeconfig))
	if err != nil {
		return nil, failure.Preflight(fmt.Errorf("the asset dir's admin kubeconfig: %w", err))
	}
	cfg.Timeout = 15 * time.Second
	cfg.UserAgent = "bootstrap-token"
	return kubernetes.NewForConfig(cfg)
}

func createCommand(g *global.Options) *cobra.Command {
	var c common
	o := token.Options{}
	cmd := &cobra.Command{
		Use:   "create --asset-dir DIR [--ttl 24h] [--usages signing,authentication] [--groups G]",
		Short: "Create a bootstrap token and print the command that joins a node with it",
		Long: `create stores a new bootstrap token and prints, on stdout, the join command for
a new node: the apiserver URL, the token, and the pin of the cluster CA
(sha256 of its public key), which 'bootstrap join' checks the server against.
The token authenticates as system:bootstrappers plus --groups (default the
group render grants node client CSRs and their auto-approval). It refuses a
cluster whose pod network is the one-node bridge.`,
		Example: `  bootstrap token create --asset-dir /opt/bootstrap/assets
  bootstrap token create --asset-dir /opt/bootstrap/assets --ttl 1h --description "rack 2" -o json`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			dir, err := c.check()
			if err != nil {
				return err
			}
			cfg, err := v1alpha1.Load(assets.Path(dir, assets.ConfigFile))
			if err != nil {
				return err
			}
			if err := token.CheckJoinable(cfg); err != nil {
				return err
			}
			if !cmd.Flags().Changed("groups") && contains(o.Usages, token.UsageAuthentication) {
				o.Groups = []string{assets.BootstrapTokenGroup}
			}
			if err := o.Validate(); err != nil {
				return err
			}
			ca, err := certutil.CertsFromFile(assets.Path(dir, assets.CACert))
			if err != nil {
				return failure.Preflight(fmt.Errorf("the asset dir's cluster CA: %w", err))
			}
			cs, err := adminClient(dir)
			if err != nil {
				return err
			}
			ctx, stop := global.SignalContext()
			defer stop()
			t, err := token.Create(ctx, cs, o, time.Now())
			if err != nil {
				return err
			}
			hash := token.CAHash(ca[0])
			join := token.JoinCommand(cfg.APIServer.ExternalURL, t.String(), hash)
			expires := "never"
			if t.Expires != nil {
				expires = t.Expires.Format(time.RFC3339)
			}
			g.Printer().Infof("token", "Created token %s (expires %s, usages %s); run on the new node:", t.ID, expires, strings.Join(t.Usages, ","))
			if c.output == "json" {
				return writeJSON(g, struct {
					ID          string     `json:"id"`
					Token       string     `json:"token"`
					Expires     *time.Time `json:"expires,omitempty"`
					Usages      []string   `json:"usages"`
					Groups      []string   `json:"groups,omitempty"`
					CAHash      string     `json:"caCertHash"`
					Server      string     `json:"server"`
					JoinCommand string     `json:"joinCommand"`
				}{t.ID, t.String(), t.Expires, t.Usages, t.Groups, hash, cfg.APIServer.ExternalURL, join})
			}
			_, err = fmt.Fprintln(g.Out, join)
			return err
		},
	}
	c.addFlags(cmd)
	cmd.Flags().StringVar(&o.Token, "token", "", "the token to create, id.secret ([a-z0-9]{6}.[a-z0-9]{16}); default a random one")
	cmd.Flags().DurationVar(&o.TTL, "ttl", token.DefaultTTL, "how long the token is valid; 0 never expires")
	cmd.Flags().StringSliceVar(&o.Usages, "usages", token.DefaultUsages, "signing (discovery), authentication (the kubelet's TLS bootstrap)")
	cmd.Flags().StringSliceVar(&o.Groups, "groups", nil, "extra groups, system:bootstrappers:... (default "+assets.BootstrapTokenGroup+")")
	cmd.Flags().StringVar(&o.Description, "description", "", "what the token is for")
	return cmd
}

func listCommand(g *global.Options) *cobra.Command {
	var c common
	cmd := &cobra.Command{
		Use:     "list --asset-dir DIR",
		Short:   "List the cluster's bootstrap tokens (IDs, never secrets)",
		Example: `  bootstrap token list --asset-dir /opt/bootstrap/assets -o json`,
		Args:    cobra.NoArgs,
		RunE: func(*cobra.Command, []string) error {
			dir, err := c.check()
			if err != nil {
				return err
			}
			cs, err := adminClient(dir)
			if err != nil {
				return err
			}
			ctx, stop := global.SignalContext()
			defer stop()
			list, err := token.List(ctx, cs)
			if err != nil {
				return err
			}
			if c.output == "json" {
				if list == nil {
					list = []token.Token{}
				}
				return writeJSON(g, list)
			}
			w := tabwriter.NewWriter(g.Out, 0, 4, 2, ' ', 0)
			fmt.Fprintln(w, "ID\tTTL\tEXPIRES\tUSAGES\tGROUPS\tDESCRIPTION")
			now := time.Now()
			for _, t := range list {
				ttl, exp := "<forever>", "<never>"
				if t.Expires != nil {
					exp = t.Expires.Format(time.RFC3339)
					ttl = "<expired>"
					if d := t.Expires.Sub(now); d > 0 {
						ttl = d.Round(time.Second).String()
					}
				}
				fmt.Fprintf(w, "%s\t%s\t%s\t%s\t%s\t%s\n", t.ID, ttl, exp, strings.Join(t.Usages, ","), orNone(strings.Join(t.Groups, ",")), orNone(t.Description))
			}
			return w.Flush()
		},
	}
	c.addFlags(cmd)
	return cmd
}

func deleteCommand(g *global.Options) *cobra.Command {
	var c common
	cmd := &cobra.Command{
		Use:     "delete --asset-dir DIR ID|TOKEN...",
		Short:   "Delete bootstrap tokens: nodes can no longer join with them",
		Example: `  bootstrap token delete --asset-dir /opt/bootstrap/assets abcdef`,
		Args:    cobra.MinimumNArgs(1),
		RunE: func(_ *cobra.Command, args []string) error {
			dir, err := c.check()
			if err != nil {
				return err
			}
			cs, err := adminClient(dir)
			if err != nil {
				return err
			}
			ctx, stop := global.SignalContext()
			defer stop()
			for _, a := range args {
				if err := token.Delete(ctx, cs, a); err != nil {
					return err
				}
				id, _, _ := strings.Cut(a, ".")
				g.Printer().Infof("token", "Deleted token %s", id)
			}
			return nil
		},
	}
	c.addFlags(cmd)
	return cmd
}

func writeJSON(g *global.Options, v any) error {
	data, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return err
	}
	_, err = fmt.Fprintln(g.Out, string(data))
	return err
}

func contains(s []string, v string) bool {
	for _, x := range s {
		if x == v {
			return true
		}
	}
	return false
}

func orNone(s string) string {
	if s == "" {
		return "<none>"
	}
	return s
}
