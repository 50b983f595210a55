// Package status implements `bootstrap status`.
package status

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/bootstrap-k8s/bootstrap/pkg/cli/global"
	"github.com/bootstrap-k8s/bootstrap/pkg/failure"
	"github.com/bootstrap-k8s/bootstrap/pkg/status"
	"github.com/bootstrap-k8s/bootstrap/pkg/ui"
)

// NewCommand returns `bootstrap status`.
func NewCommand(g *global.Options) *cobra.Command {
	var o status.Options
	var output string
	var watch bool
	cmd := &cobra.Command{
		Use:   "status [--asset-dir DIR | --kubeconfig FILE] [-o table|json] [--watch]",
		Short: "Check every control-plane component and judge the whole: Healthy, Degraded or Unhealthy",
		Long: `status checks each component of the self-hosted control plane and prints one
row per component: etcd members (/health over TLS, member list with the
leader, DB size, alarms), each kube-apiserver on its node's address (/readyz,
not only through the shared endpoint), the controller-manager and scheduler
(ready replicas, and whether their lease holder renews it), kube-proxy per
node, CoreDNS, the pod network, the csr-approver, the guard static pod, the
kubelets (Ready, version) and the static pods on this node's disk; with the
version, the expiry of the certificate each serves (read by a TLS client), and
the last transition with its reason.

Each check is probed every --interval with a --timeout per probe, and passes
after --healthy-threshold passing probes in a row, fails after
--unhealthy-threshold failing ones; a run lasts at most their sum in probes.
While the API is down, status still checks etcd, the kubelet's healthz and the
static pods on disk. Nothing waits without a deadline.

Exit status (status's own convention, for scripts and monitoring):
  0  Healthy    every component healthy
  1  Degraded   something is not healthy, but the API serves and etcd has quorum
  2  Unhealthy  no kube-apiserver serves, or etcd has lost quorum
  3  the flags are invalid (nothing was checked)

With --asset-dir every check runs (etcd needs its client certificate; the
kubelet and the static pods are this node's). With --kubeconfig alone, only
what the API shows.`,
		Example: `  bootstrap status --asset-dir /opt/bootstrap/assets
  bootstrap status --kubeconfig ~/.kube/config -o json | jq '.components[] | select(.state != "Healthy")'
  bootstrap status --asset-dir /opt/bootstrap/assets --watch --interval 5s`,
		Args: cobra.NoArgs,
		RunE: func(*cobra.Command, []string) error {
			if output != "table" && output != "json" {
				return failure.InvalidConfig(fmt.Errorf("-o %q: give table or json", output))
			}
			if o.AssetDir == "" && o.Kubeconfig == "" {
				return failure.InvalidConfig(errors.New("give --asset-dir DIR (every check) or --kubeconfig FILE (what the API shows)"))
			}
			if err := o.Thresholds.Validate(); err != nil {
				return failure.InvalidConfig(err)
			}
			if o.AssetDir != "" {
				dir, err := global.AssetDir(o.AssetDir)
				if err != nil {
					return err
				}
				o.AssetDir = dir
			}
			ctx, stop := global.SignalContext()
			defer stop()
			p := g.Printer()
			if !watch {
				p.Detailf("status", "Checking the control plane (interval %s, timeout %s, thresholds %d/%d)", o.Thresholds.Interval, o.Thresholds.Timeout, o.Thresholds.Healthy, o.Thresholds.Unhealthy)
				rep, err := status.Check(ctx, o)
				if err != nil {
					return err
				}
				if err := write(g.Out, output, rep); err != nil {
					return err
				}
				p.Infof("status", "%s: %s", rep.Overall, rep.Reason)
				return Verdict(rep)
			}
			var last *status.Report
			err := status.Watch(ctx, o, func(rep *status.Report) {
				last = rep
				if output == "table" {
					fmt.Fprintf(g.Out, "--- %s  %s\n", rep.CheckedAt.Format(time.RFC3339), rep.Overall)
				}
				if err := write(g.Out, output, rep); err != nil {
					p.Infof("status", "writing: %v", err)
				}
				p.Infof("status", "%s: %s", rep.Overall, rep.Reason)
			})
			if err != nil || last == nil {
				return err
			}
			return Verdict(last)
		},
	}
	f := cmd.Flags()
	f.StringVar(&o.AssetDir, "asset-dir", "", "the cluster's asset dir: every check, with its credentials")
	f.StringVar(&o.Kubeconfig, "kubeconfig", "", "a kubeconfig (default with --asset-dir: its admin kubeconfig); alone, only the API's checks run")
	f.StringVarP(&output, "output", "o", "table", "table or json (data on stdout, the verdict on stderr)")
	f.BoolVarP(&watch, "watch", "w", false, "keep checking every --interval; print again when a component's state changes")
	f.DurationVar(&o.Thresholds.Interval, "interval", status.DefaultInterval, "time between two probes of the same check")
	f.DurationVar(&o.Thresholds.Timeout, "timeout", status.DefaultTimeout, "deadline of each probe (connect, TLS handshake, request)")
	f.IntVar(&o.Thresholds.Healthy, "healthy-threshold", status.DefaultHealthy, "passing probes in a row that make a check healthy")
	f.IntVar(&o.Thresholds.Unhealthy, "unhealthy-threshold", status.DefaultUnhealthy, "failing probes in a row that make a check fail")
	f.DurationVar(&o.Thresholds.CertWarning, "cert-warning", status.DefaultCertWarning, "a served certificate expiring within this makes its component Degraded")
	return cmd
}

// Verdict turns the overall state into status's exit code.
func Verdict(rep *status.Report) error {
	switch rep.Overall {
	case status.Healthy:
		return nil
	case status.Degraded:
		return failure.Wrap(failure.KindDegraded, fmt.Errorf("the control plane is Degraded: %s", rep.Reason))
	}
	return failure.Wrap(failure.KindUnhealthy, fmt.Errorf("the control plane is %s: %s", rep.Overall, rep.Reason))
}

func write(w io.Writer, output string, rep *status.Report) error {
	if output == "json" {
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		return enc.Encode(rep)
	}
	return Table(w, rep)
}

// Table writes the report's rows as a table.
func Table(w io.Writer, rep *status.Report) error {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "COMPONENT\tNODE\tSTATE\tREADY\tVERSION\tCERT EXPIRES\tLAST TRANSITION\tDETAIL")
	for _, r := range rep.Rows {
		ready := "-"
		if r.Desired != nil && r.Ready != nil {
			ready = fmt.Sprintf("%d/%d", *r.Ready, *r.Desired)
		} else if r.Desired != nil {
			ready = fmt.Sprintf("?/%d", *r.Desired)
		}
		cert := "-"
		if r.CertNotAfter != nil {
			cert = fmt.Sprintf("%s (%s)", r.CertNotAfter.Format("2006-01-02"), ui.Age(time.Until(*r.CertNotAfter)))
		}
		trans := "-"
		if r.LastTransition != nil {
			trans = fmt.Sprintf("%s ago", ui.Age(time.Since(*r.LastTransition)))
			if r.Reason != "" {
				trans += " " + r.Reason
			}
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n", r.Component, dash(r.Node), r.State, ready, dash(r.Version), cert, trans,
			strings.ReplaceAll(r.Detail, "\n", " "))
	}
	return tw.Flush()
}

func dash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}
