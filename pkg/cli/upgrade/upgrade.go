// Package upgrade implements `bootstrap upgrade plan|apply`.
package upgrade

import (
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/bootstrap-k8s/bootstrap/pkg/cli/global"
	"github.com/bootstrap-k8s/bootstrap/pkg/failure"
	"github.com/bootstrap-k8s/bootstrap/pkg/ui"
	"github.com/bootstrap-k8s/bootstrap/pkg/upgrade"
)

// NewCommand returns `bootstrap upgrade`.
func NewCommand(g *global.Options) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "upgrade plan|apply --asset-dir DIR --to VERSION",
		Short: "Upgrade the self-hosted control plane component by component, with health gates and roll-back",
		Long: `upgrade is the safe path beside a plain 'kubectl apply -f manifests/' (both
are described in docs/upgrades.md). 'plan' reads the running cluster and says
what the target changes, in which order, and what the version-skew policy
forbids. 'apply' takes a verified etcd snapshot, re-renders the asset dir for
the target, and rolls kube-apiserver, controller-manager, scheduler, kube-proxy
and the add-ons one at a time, each awaited until it serves; a component that
does not is rolled back and the command exits 1 naming the pod and why.
Kubelets are a node step: replace the binary and restart it afterwards.`,
		Example: `  bootstrap upgrade plan --asset-dir /opt/bootstrap/assets --to v1.37.2
  bootstrap upgrade apply --asset-dir /opt/bootstrap/assets --to v1.37.2`,
	}
	cmd.AddCommand(newPlan(g), newApply(g))
	return cmd
}

func addCommon(fs *pflag.FlagSet, o *upgrade.Options) {
	fs.StringVar(&o.AssetDir, "asset-dir", "", "the cluster's asset dir (its bootstrap-config.yaml is the configuration upgraded)")
	fs.StringVar(&o.To, "to", "", "target Kubernetes version, e.g. v1.37.2 (default: the asset dir's kubernetesVersion)")
	fs.StringVar(&o.Kubeconfig, "kubeconfig", "", "kubeconfig to reach the cluster (default: the asset dir's admin kubeconfig)")
}

func newPlan(g *global.Options) *cobra.Command {
	var o upgrade.Options
	var output string
	cmd := &cobra.Command{
		Use:   "plan --asset-dir DIR [--to VERSION] [-o table|json]",
		Short: "Show what an upgrade to VERSION changes, in order, and what the version-skew policy forbids",
		Long: `plan changes nothing. It exits 0 when the upgrade may go ahead, 2 when the
version-skew policy forbids it or the control plane is not healthy (the
reasons are printed), 3 when the target configuration is invalid.`,
		Example: `  bootstrap upgrade plan --asset-dir /opt/bootstrap/assets --to v1.37.2
  bootstrap upgrade plan --asset-dir /opt/bootstrap/assets --to v1.37.2 -o json | jq .steps`,
		Args: cobra.NoArgs,
		RunE: func(*cobra.Command, []string) error {
			if o.AssetDir == "" {
				return errors.New("--asset-dir is required")
			}
			if output != "" && output != "table" && output != "json" {
				return failure.InvalidConfig(fmt.Errorf("-o %q: want table or json", output))
			}
			ctx, stop := global.SignalContext()
			defer stop()
			plan, err := upgrade.MakePlan(ctx, o)
			if err != nil {
				return err
			}
			if output == "json" {
				data, err := json.MarshalIndent(plan, "", "  ")
				if err != nil {
					return err
				}
				fmt.Fprintln(g.Out, string(data))
			} else {
				fmt.Fprint(g.Out, plan.Table())
			}
			if len(plan.Refusals) > 0 {
				return failure.Preflight(fmt.Errorf("the upgrade to %s is refused: %s", plan.TargetVersion, strings.Join(plan.Refusals, "; ")))
			}
			if len(plan.Unhealthy) > 0 {
				return failure.Preflight(fmt.Errorf("the control plane is not healthy: %s", strings.Join(plan.Unhealthy, "; ")))
			}
			if plan.Changes() > 0 {
				fmt.Fprintf(g.Err, "\nTo upgrade: bootstrap upgrade apply --asset-dir %s --to %s\n", o.AssetDir, plan.TargetVersion)
			}
			return nil
		},
	}
	addCommon(cmd.Flags(), &o)
	cmd.Flags().StringVarP(&output, "output", "o", "table", "output format: table or json")
	return cmd
}

func newApply(g *global.Options) *cobra.Command {
	var o upgrade.Options
	cmd := &cobra.Command{
		Use:   "apply --asset-dir DIR --to VERSION [--dry-run]",
		Short: "Upgrade the control plane to VERSION, component by component, rolling back what does not serve",
		Long: `apply refuses what 'plan' refuses. Then: an etcd snapshot into
<asset-dir>/backups (--backup-dir), the asset dir re-rendered for VERSION,
the objects the workloads need, then each workload in order, awaited until it
serves (kube-apiserver: /readyz on every node and /version; controller-manager
and scheduler: a lease renewed after the roll-out; the rest: every pod
available). A workload that does not serve within --component-timeout is put
back on its previous spec and awaited, the asset dir files are restored, and
apply exits 1 with the failing pods' state. Re-running after an interruption
converges: what is already on the target is skipped.`,
		Example: `  bootstrap upgrade apply --asset-dir /opt/bootstrap/assets --to v1.37.2
  bootstrap upgrade apply --asset-dir /opt/bootstrap/assets --to v1.37.2 --dry-run > changes.yaml`,
		Args: cobra.NoArgs,
		RunE: func(*cobra.Command, []string) error {
			if o.AssetDir == "" {
				return errors.New("--asset-dir is required")
			}
			ctx, stop := global.SignalContext()
			defer stop()
			p := g.Printer()
			o.Logf, o.Out = p.Infof, g.Out
			begin := time.Now()
			res, err := upgrade.Apply(ctx, o)
			if res != nil && res.Plan != nil && !o.DryRun {
				fmt.Fprint(g.Err, res.Plan.Table())
			}
			if err != nil {
				return err
			}
			if o.DryRun {
				return nil
			}
			p.Infof("upgrade", "Done in %s: %s now runs %s (rolled: %s)", ui.Seconds(time.Since(begin)), o.AssetDir, res.Plan.TargetVersion, strings.Join(orNone(res.Rolled), ", "))
			fmt.Fprintf(g.Err, `
Next:
  - replace the kubelet on every node with %[1]s and restart it (a node step);
  - kubectl --kubeconfig %[2]s/auth/admin.kubeconfig version
`, res.Plan.TargetVersion, o.AssetDir)
			if res.Backup != "" {
				fmt.Fprintf(g.Err, "  - the snapshot taken before: %s\n", res.Backup)
			}
			return nil
		},
	}
	addCommon(cmd.Flags(), &o)
	cmd.Flags().BoolVar(&o.DryRun, "dry-run", false, "print the objects that would be applied, in order, and change nothing")
	cmd.Flags().BoolVar(&o.Force, "force", false, "upgrade even though the control plane is not fully healthy now")
	cmd.Flags().DurationVar(&o.ComponentTimeout, "component-timeout", upgrade.DefaultComponentTimeout, "how long each component may take to serve on the target before it is rolled back")
	cmd.Flags().StringVar(&o.BackupDir, "backup-dir", "", "where the etcd snapshot taken first goes (default <asset-dir>/backups)")
	return cmd
}

func orNone(s []string) []string {
	if len(s) == 0 {
		return []string{"nothing"}
	}
	return s
}
