package upgrade

import (
	"fmt"
	"io"
	"time"

	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"

	"github.com/bootstrap-k8s/bootstrap/pkg/apis/bootstrap/v1alpha1"
	"github.com/bootstrap-k8s/bootstrap/pkg/assets"
)

// DefaultComponentTimeout is how long one component may take to serve on
// its new version before it is rolled back.
const DefaultComponentTimeout = 5 * time.Minute

// Options are the flags of `bootstrap upgrade plan|apply`.
type Options struct {
	// AssetDir is the cluster's asset dir; its bootstrap-config.yaml is the
	// configuration upgraded from, re-rendered with To.
	AssetDir string
	// To is the target Kubernetes version ("" keeps the asset dir's).
	To string
	// Kubeconfig defaults to the asset dir's admin kubeconfig.
	Kubeconfig string
	// ComponentTimeout bounds each component's roll-out (default
	// DefaultComponentTimeout); the roll-back gets as long again.
	ComponentTimeout time.Duration
	// BackupDir receives the snapshot taken first (default <AssetDir>/backups).
	BackupDir string
	// DryRun prints the objects Apply would change and changes nothing.
	DryRun bool
	// Force upgrades a cluster whose control plane is not fully healthy.
	Force bool
	// Logf receives progress lines ("[phase] message"); Out the dry-run objects.
	Logf func(phase, format string, args ...any)
	Out  io.Writer
	Now  func() time.Time
}

func (o *Options) complete() {
	if o.ComponentTimeout <= 0 {
		o.ComponentTimeout = DefaultComponentTimeout
	}
	if o.Kubeconfig == "" {
		o.Kubeconfig = assets.Path(o.AssetDir, assets.AdminKubeconfig)
	}
	if o.BackupDir == "" {
		o.BackupDir = assets.Path(o.AssetDir, "backups")
	}
	if o.Logf == nil {
		o.Logf = func(string, string, ...any) {}
	}
	if o.Out == nil {
		o.Out = io.Discard
	}
	if o.Now == nil {
		o.Now = time.Now
	}
}

// targetConfig is the asset dir's configuration with the target version.
func (o *Options) targetConfig() (*v1alpha1.BootstrapConfiguration, error) {
	var overrides []v1alpha1.Override
	if o.To != "" {
		overrides = append(overrides, func(c *v1alpha1.BootstrapConfiguration) { c.KubernetesVersion = o.To })
	}
	return v1alpha1.Load(assets.Path(o.AssetDir, assets.ConfigFile), overrides...)
}

func (o *Options) restConfig() (*rest.Config, error) {
	cfg, err := clientcmd.BuildConfigFromFlags("", o.Kubeconfig)
	if err != nil {
		return nil, fmt.Errorf("kubeconfig %s: %w", o.Kubeconfig, err)
	}
	cfg.Timeout = 15 * time.Second
	cfg.QPS, cfg.Burst = 20, 40
	cfg.UserAgent = "bootstrap-upgrade"
	return cfg, nil
}
