// Package certs implements `bootstrap certs check-expiration` and
// `bootstrap certs renew`.
package certs

import (
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/bootstrap-k8s/bootstrap/pkg/certs"
	"github.com/bootstrap-k8s/bootstrap/pkg/cli/global"
	"github.com/bootstrap-k8s/bootstrap/pkg/failure"
	"github.com/bootstrap-k8s/bootstrap/pkg/ui"
)

// NewCommand returns `bootstrap certs`.
func NewCommand(g *global.Options) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "certs",
		Short: "List certificate expiry and renew leaf certificates without an outage",
		Long: `certs lists every certificate of the cluster — the asset dir's, the copies
the running components read (control-plane Secrets, etcd's files on the node,
the kubelet's rotated certificates) and what each server presents — and renews
leaf certificates with the same CAs. CA rotation is a manual procedure
(docs/operations.md).`,
		Example: `  bootstrap certs check-expiration --asset-dir /opt/bootstrap/assets
  bootstrap certs renew all --asset-dir /opt/bootstrap/assets`,
		Args: cobra.NoArgs,
	}
	cmd.AddCommand(newCheckCommand(g), newRenewCommand(g))
	return cmd
}

func addCommon(cmd *cobra.Command, o *certs.Options) {
	f := cmd.Flags()
	f.StringVar(&o.AssetDir, "asset-dir", "", "the cluster's asset dir")
	f.StringVar(&o.KubeletDir, "kubelet-dir", certs.DefaultKubeletDir, "the kubelet's root dir on this node (its pki/ holds the rotated certificates)")
	f.DurationVar(&o.Timeout, "timeout", certs.DefaultTimeout, "deadline of each network step (TLS handshake, API request)")
}

func newCheckCommand(g *global.Options) *cobra.Command {
	var o certs.Options
	var output string
	cmd := &cobra.Command{
		Use:   "check-expiration --asset-dir DIR [-o table|json] [--warn-within 720h]",
		Short: "List every certificate of the cluster with its expiry and time left",
		Long: `check-expiration lists the asset dir's CAs and leaf certificates (kubeconfigs'
client certificates included), the copies the running cluster reads (the
kube-system Secrets of the self-hosted components, the etcd member's files in
etcd.local.certDir, the kubelet's kubelet-client-current.pem and
kubelet-server-current.pem) and what kube-apiserver, etcd and the kubelets
present to a TLS client, with the expiry and the time left. A certificate
expiring within --warn-within, expired, or a copy that differs from the asset
dir's is flagged on stderr. Sources it cannot read (no API, not root) are
named on stderr. Exit 0 unless the asset dir cannot be read.`,
		Example: `  bootstrap certs check-expiration --asset-dir /opt/bootstrap/assets
  bootstrap certs check-expiration --asset-dir /opt/bootstrap/assets -o json | jq '.certificates[] | select(.warning)'`,
		Args: cobra.NoArgs,
		RunE: func(*cobra.Command, []string) error {
			if output != "table" && output != "json" {
				return failure.InvalidConfig(fmt.Errorf("-o %q: give table or json", output))
			}
			dir, err := global.AssetDir(o.AssetDir)
			if err != nil {
				return failure.InvalidConfig(err)
			}
			o.AssetDir = dir
			ctx, stop := global.SignalContext()
			defer stop()
			p := g.Printer()
			l, err := certs.List(ctx, o)
			if err != nil {
				return err
			}
			if output == "json" {
				enc := json.NewEncoder(g.Out)
				enc.SetIndent("", "  ")
				if err := enc.Encode(l); err != nil {
					return err
				}
			} else if err := table(g.Out, l); err != nil {
				return err
			}
			for _, s := range l.Skipped {
				p.Infof("certs", "Not read: %s", s)
			}
			for _, c := range l.Warnings() {
				p.Infof("certs", "Warning: %s (%s, %s): %s", c.Name, c.Source, c.Location, c.Warning)
			}
			p.Infof("certs", "%d certificates, %d warnings", len(l.Certs), len(l.Warnings()))
			return nil
		},
	}
	addCommon(cmd, &o)
	cmd.Flags().StringVarP(&output, "output", "o", "table", "table or json")
	cmd.Flags().DurationVar(&o.Warn, "warn-within", certs.DefaultWarn, "flag certificates that expire within this")
	return cmd
}

func newRenewCommand(g *global.Options) *cobra.Command {
	var o certs.RenewOptions
	var output string
	cmd := &cobra.Command{
		Use:   "renew all|NAME... --asset-dir DIR [--force]",
		Short: "Re-issue leaf certificates with the same CAs and roll the components without an outage",
		Long: `renew re-issues the named leaf certificates (or all) with the asset dir's CAs
(tls/ca.key, tls/front-proxy-ca.key, tls/etcd/ca.key must be there), writes
them to the asset dir, and puts them where the running components read them:
the kube-system Secrets are updated and their workloads rolled one after the
other — kube-apiserver first, surging a new pod beside the old one, which keeps
serving through its shutdown delay, so no request fails — then the
controller-manager, the scheduler and kube-proxy; etcd's files are installed in
etcd.local.certDir last (etcd reads them on every TLS handshake; its static pod
is restarted only if it keeps serving the old certificate). It then checks
that the new serving certificates are what kube-apiserver and etcd present,
and that every kubelet renews its own client certificate (rotateCertificates).

Names: apiserver, apiserver-kubelet-client, apiserver-etcd-client,
front-proxy-client, etcd-server, etcd-peer, etcd-healthcheck-client,
admin.kubeconfig, super-admin.kubeconfig, controller-manager.kubeconfig,
scheduler.kubeconfig, kube-proxy.kubeconfig, kubelet.kubeconfig.

Refused, with nothing changed: an unknown name (exit 3), a missing CA key, an
asset dir whose CA is not the running cluster's, a cluster that is not Healthy
(bootstrap status; --force renews anyway) or whose API does not answer
(--force then renews the asset dir and etcd's files only) (exit 2).`,
		Example: `  bootstrap certs renew all --asset-dir /opt/bootstrap/assets
  bootstrap certs renew apiserver admin.kubeconfig --asset-dir /opt/bootstrap/assets -v 1`,
		RunE: func(_ *cobra.Command, args []string) error {
			if output != "text" && output != "json" {
				return failure.InvalidConfig(fmt.Errorf("-o %q: give text or json", output))
			}
			dir, err := global.AssetDir(o.AssetDir)
			if err != nil {
				return failure.InvalidConfig(err)
			}
			o.AssetDir, o.Names = dir, args
			ctx, stop := global.SignalContext()
			defer stop()
			p := g.Printer()
			begin := time.Now()
			res, err := certs.Renew(ctx, o, p)
			if res != nil {
				if output == "json" {
					enc := json.NewEncoder(g.Out)
					enc.SetIndent("", "  ")
					if werr := enc.Encode(res); werr != nil && err == nil {
						err = werr
					}
				} else {
					for _, r := range res.Renewed {
						fmt.Fprintf(g.Out, "%s\t%s\t%s\n", r.Name, r.NewSerial, r.NewNotAfter.Format(time.RFC3339))
					}
				}
			}
			if err == nil {
				p.Infof("certs", "Renewed %d certificates in %s", len(res.Renewed), time.Since(begin).Round(10*time.Millisecond))
			}
			return err
		},
	}
	addCommon(cmd, &o.Options)
	cmd.Flags().BoolVar(&o.Force, "force", false, "renew a cluster that is not Healthy (never one of another CA)")
	cmd.Flags().DurationVar(&o.RolloutTimeout, "rollout-timeout", 5*time.Minute, "give up on a workload's roll-out after this long")
	cmd.Flags().StringVarP(&output, "output", "o", "text", "text (name, serial, notAfter per line) or json")
	return cmd
}

func table(w io.Writer, l *certs.Listing) error {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "NAME\tSOURCE\tLOCATION\tEXPIRES\tLEFT\tRENEWAL\tWARNING")
	for _, c := range l.Certs {
		expires, left := "-", "-"
		if !c.NotAfter.IsZero() {
			expires = c.NotAfter.Format("2006-01-02 15:04Z")
			left = ui.Age(time.Duration(c.ResidualSeconds) * time.Second)
		}
		warn := c.Warning
		if c.Error != "" {
			warn = joinNonEmpty("cannot read: "+c.Error, warn)
		}
		name := c.Name
		if c.CA {
			name += " (CA)"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\n", name, c.Source, c.Location, expires, left, c.Renewal, strings.ReplaceAll(warn, "\n", " "))
	}
	return tw.Flush()
}

func joinNonEmpty(a, b string) string {
	if b == "" {
		return a
	}
	return a + "; " + b
}
