package status

import (
	"crypto/tls"
	"errors"
	"fmt"
	"net/http"
	"os"
	"sync/atomic"
	"time"

	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"

	"github.com/bootstrap-k8s/bootstrap/pkg/apis/bootstrap/v1alpha1"
	"github.com/bootstrap-k8s/bootstrap/pkg/assets"
	"github.com/bootstrap-k8s/bootstrap/pkg/etcdutil"
)

// env is what every check of one status run shares.
type env struct {
	th  Thresholds
	now func() time.Time
	// cfg is the asset dir's configuration (nil with --kubeconfig alone).
	cfg      *v1alpha1.BootstrapConfiguration
	assetDir string
	// rest is the admin configuration; cs a client through it (the shared
	// endpoint).
	rest *rest.Config
	cs   kubernetes.Interface
	// etcdTLS is the asset dir's etcd client TLS configuration (nil without
	// a local etcd).
	etcdTLS     *tls.Config
	etcdChecked bool
	// apiReachable is set by the API checks of the last round.
	apiReachable atomic.Bool
}

func newEnv(o Options) (*env, error) {
	th := o.Thresholds
	if err := th.Validate(); err != nil {
		return nil, err
	}
	th.defaults()
	e := &env{th: th, now: o.Now, assetDir: o.AssetDir}
	if e.now == nil {
		e.now = time.Now
	}
	kubeconfig := o.Kubeconfig
	if o.AssetDir == "" && kubeconfig == "" {
		return nil, errors.New("give --asset-dir DIR (every check) or --kubeconfig FILE (what the API shows)")
	}
	if o.AssetDir != "" {
		if _, err := os.Stat(assets.Path(o.AssetDir, assets.ConfigFile)); err != nil {
			return nil, fmt.Errorf("%s is not an asset dir (%v): give the directory `bootstrap render` wrote", o.AssetDir, err)
		}
		cfg := o.Config
		if cfg == nil {
			var err error
			if cfg, err = v1alpha1.Load(assets.Path(o.AssetDir, assets.ConfigFile)); err != nil {
				return nil, err
			}
		}
		e.cfg = cfg
		if kubeconfig == "" {
			kubeconfig = assets.Path(o.AssetDir, assets.AdminKubeconfig)
		}
		if cfg.Etcd.Local != nil {
			ec, err := etcdutil.Config(o.AssetDir)
			if err != nil {
				return nil, err
			}
			e.etcdTLS = ec.TLS
			e.etcdChecked = true
		}
	}
	rc, err := clientcmd.BuildConfigFromFlags("", kubeconfig)
	if err != nil {
		return nil, fmt.Errorf("kubeconfig %s: %w", kubeconfig, err)
	}
	rc.Timeout = th.Timeout
	e.rest = rc
	// A transport of its own, closed between rounds by the request
	// timeouts: a kube-apiserver that went away must not be hidden behind
	// an old connection.
	hc, err := rest.HTTPClientFor(rc)
	if err != nil {
		return nil, err
	}
	hc.Timeout = th.Timeout
	if e.cs, err = kubernetes.NewForConfigAndClient(rc, hc); err != nil {
		return nil, err
	}
	return e, nil
}

// httpClient is a client with the timeout and TLS configuration given.
func (e *env) httpClient(tlsCfg *tls.Config) *http.Client {
	return &http.Client{Timeout: e.th.Timeout, Transport: &http.Transport{TLSClientConfig: tlsCfg, DisableKeepAlives: true}}
}
