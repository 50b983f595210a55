package certs

import (
	"context"
	"crypto/x509"
	"fmt"
	"os"
	"strings"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/clientcmd"

	"github.com/bootstrap-k8s/bootstrap/pkg/apis/bootstrap/v1alpha1"
	"github.com/bootstrap-k8s/bootstrap/pkg/assetlock"
	"github.com/bootstrap-k8s/bootstrap/pkg/assets"
	"github.com/bootstrap-k8s/bootstrap/pkg/failure"
	"github.com/bootstrap-k8s/bootstrap/pkg/status"
	"github.com/bootstrap-k8s/bootstrap/pkg/tlsprobe"
	"github.com/bootstrap-k8s/bootstrap/pkg/ui"
)

// RenewOptions say what to renew.
type RenewOptions struct {
	Options
	// Names are the certificates (catalogue names) or "all".
	Names []string
	// Force renews a cluster that is not Healthy, or whose API does not
	// answer (then only the asset dir and this node's etcd files change).
	// It never overrides a CA mismatch.
	Force bool
	// RolloutTimeout bounds each roll-out (default 5m).
	RolloutTimeout time.Duration
}

// Renewed is one re-issued certificate.
type Renewed struct {
	Name        string    `json:"name"`
	OldSerial   string    `json:"oldSerial"`
	NewSerial   string    `json:"newSerial"`
	OldNotAfter time.Time `json:"oldNotAfter"`
	NewNotAfter time.Time `json:"newNotAfter"`
}

// RenewResult is what Renew did.
type RenewResult struct {
	Renewed []Renewed `json:"renewed"`
	// Rolled are the workloads rolled out with the new certificates.
	Rolled []string `json:"rolled,omitempty"`
	// Verified: served certificates seen to be the new ones, "host:port serial".
	Verified []string `json:"verified,omitempty"`
	Notes    []string `json:"notes,omitempty"`
}

// RenewedAtAnnotation on a pod template makes its workload roll: the
// Secret a pod mounts changes in place, but the processes read their
// certificates and kubeconfigs at start.
const RenewedAtAnnotation = "bootstrap.dev/certificates-renewed-at"

// Renew re-issues the named leaf certificates with the asset dir's CAs and
// puts them where the running cluster reads them. It refuses, changing
// nothing, unknown names, missing CA keys, an asset dir of another
// cluster, and (without Force) a cluster that is not Healthy.
func Renew(ctx context.Context, o RenewOptions, p *ui.Printer) (*RenewResult, error) {
	o.defaults()
	if o.RolloutTimeout <= 0 {
		o.RolloutTimeout = 5 * time.Minute
	}
	cfg, err := loadConfig(o.Options)
	if err != nil {
		return nil, err
	}
	todo, err := resolve(cfg, o.Names)
	if err != nil {
		return nil, failure.InvalidConfig(err)
	}
	if err := caKeysPresent(o.AssetDir, todo); err != nil {
		return nil, failure.Preflight(err)
	}
	release, err := assetlock.Lock(o.AssetDir)
	if err != nil {
		return nil, failure.Preflight(err)
	}
	defer release()

	rc, err := clientcmd.BuildConfigFromFlags("", assets.Path(o.AssetDir, assets.AdminKubeconfig))
	if err != nil {
		return nil, err
	}
	rc.Timeout = o.Timeout
	cs, err := kubernetes.NewForConfig(rc)
	if err != nil {
		return nil, err
	}
	apiUp, err := sameCluster(ctx, cs, cfg, o)
	if err != nil {
		return nil, failure.Preflight(err)
	}
	if !apiUp && !o.Force {
		return nil, failure.Preflight(fmt.Errorf("the Kubernetes API of this asset dir does not answer: renew needs it to update the Secrets and roll the components; check `bootstrap status --asset-dir %s`, or pass --force to renew the asset dir and this node's etcd files only", o.AssetDir))
	}
	if apiUp {
		done := p.Start("certs", "Checking that the control plane is healthy")
		// Expiring certificates are what renew is for: only expired ones count.
		rep, err := status.Check(ctx, status.Options{AssetDir: o.AssetDir, Config: cfg, Thresholds: status.Thresholds{CertWarning: time.Nanosecond}})
		if err != nil {
			return nil, err
		}
		done()
		if rep.Overall != status.Healthy {
			if !o.Force {
				return nil, failure.Preflight(fmt.Errorf("the control plane is %s (%s): renew rolls the control-plane components one after the other and needs a healthy cluster to stay available; fix it first (bootstrap status), or pass --force", rep.Overall, rep.Reason))
			}
			p.Infof("certs", "Warning: the control plane is %s (%s); renewing anyway (--force)", rep.Overall, rep.Reason)
		}
	}

	// Nothing was changed so far. Re-issue in the asset dir.
	res := &RenewResult{}
	before := map[string]*x509.Certificate{}
	var paths []string
	for _, l := range todo {
		before[l.Name], _ = assetCert(o.AssetDir, l)
		paths = append(paths, l.Asset)
	}
	done := p.Start("certs", fmt.Sprintf("Re-issuing %d certificates in %s with the same CAs", len(todo), o.AssetDir))
	if _, err := assets.Render(cfg, o.AssetDir, assets.Options{Renew: paths, Now: o.Now, Logf: func(f string, a ...any) {
		if line := fmt.Sprintf(f, a...); strings.Contains(line, "Regenerating") {
			p.Detailf("certs", "%s", strings.TrimPrefix(strings.TrimPrefix(line, "[certs] "), "[kubeconfig] "))
		}
	}}); err != nil {
		return nil, fmt.Errorf("re-issuing in the asset dir: %w", err)
	}
	done()
	for _, l := range todo {
		nc, err := assetCert(o.AssetDir, l)
		if err != nil {
			return res, err
		}
		r := Renewed{Name: l.Name, NewSerial: nc.SerialNumber.Text(16), NewNotAfter: nc.NotAfter.UTC()}
		if oc := before[l.Name]; oc != nil {
			r.OldSerial, r.OldNotAfter = oc.SerialNumber.Text(16), oc.NotAfter.UTC()
		}
		res.Renewed = append(res.Renewed, r)
		p.Infof("certs", "Renewed %s: serial %s, valid until %s", l.Name, r.NewSerial, r.NewNotAfter.Format(time.RFC3339))
	}
	if !apiUp {
		res.Notes = append(res.Notes, "the API did not answer: the Secrets were not updated and nothing was rolled; once it serves, `bootstrap start --asset-dir DIR` re-applies the asset dir's Secrets, and a roll of the workloads (kubectl -n kube-system rollout restart) makes them read the new certificates")
	} else if err := rollOut(ctx, o, cfg, rc, cs, todo, res, p); err != nil {
		return res, err
	}
	if err := renewEtcd(ctx, o, cfg, todo, res, p); err != nil {
		return res, err
	}
	if apiUp {
		res.Notes = append(res.Notes, kubeletRotation(ctx, cs, o.Timeout)...)
	}
	for _, n := range res.Notes {
		p.Infof("certs", "%s", n)
	}
	return res, nil
}

// caKeysPresent: renew signs with the CA keys, which may stay off the node.
func caKeysPresent(dir string, todo []leaf) error {
	seen := map[string]bool{}
	for _, l := range todo {
		if seen[l.CAKey] {
			continue
		}
		seen[l.CAKey] = true
		if _, err := os.Stat(assets.Path(dir, l.CAKey)); err != nil {
			return fmt.Errorf("%s is not in the asset dir (%v): renewing %s signs with that CA key, which may stay off the node (docs/cloud-init.md); run renew with the asset dir that holds the CA keys, or copy the key in for the renewal", assets.Path(dir, l.CAKey), err, l.Name)
		}
	}
	return nil
}

// sameCluster refuses an asset dir whose CA is not the running cluster's:
// re-issuing from it would hand the components certificates nothing trusts.
// It says whether the API answered.
func sameCluster(ctx context.Context, cs kubernetes.Interface, cfg *v1alpha1.BootstrapConfiguration, o RenewOptions) (bool, error) {
	data, err := os.ReadFile(assets.Path(o.AssetDir, assets.CACert))
	if err != nil {
		return false, err
	}
	ca, err := parseSecretCert(data, false)
	if err != nil {
		return false, fmt.Errorf("%s: %w", assets.CACert, err)
	}
	pool := x509.NewCertPool()
	pool.AddCert(ca)
	// What the apiserver presents must chain to this CA (checked at its
	// own start of validity: an expired certificate is still this cluster's).
	crt, err := tlsprobe.Served(ctx, hostOf(cfg.APIServer.ExternalURL), nil, o.Timeout)
	if err != nil {
		return false, nil
	}
	if _, verr := crt.Verify(x509.VerifyOptions{Roots: pool, CurrentTime: crt.NotBefore.Add(time.Second)}); verr != nil {
		return false, fmt.Errorf("the apiserver at %s presents a certificate issued by %q, not by this asset dir's CA %s (%q): the asset dir belongs to another cluster; nothing was changed", cfg.APIServer.ExternalURL, crt.Issuer, assets.CACert, ca.Subject)
	}
	lctx, cancel := context.WithTimeout(ctx, o.Timeout)
	defer cancel()
	if _, err := cs.CoreV1().Namespaces().Get(lctx, assets.KubeSystem, metav1.GetOptions{}); err != nil {
		return false, nil
	}
	return true, nil
}
