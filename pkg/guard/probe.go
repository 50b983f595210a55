package guard

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"strings"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"

	"github.com/bootstrap-k8s/bootstrap/pkg/apis/bootstrap/v1alpha1"
	"github.com/bootstrap-k8s/bootstrap/pkg/assets"
)

// prober looks at this node's kube-apiserver on loopback, where only
// kube-apiserver listens (the temporary apiserver of a recovery binds the
// advertise address only), and at the controllers' leases through it.
type prober struct {
	url  string
	host string // host:port on loopback
	cs   kubernetes.Interface
	hc   *http.Client
}

// state is what one probe found.
type state struct {
	down    bool   // nothing listens on loopback
	serving bool   // /readyz answered 200
	detail  string // why not serving, or what serves
	stuck   string // serving, but a controller holds no fresh lease
}

func (s state) String() string {
	switch {
	case s.down:
		return "kube-apiserver: down (" + s.detail + ")"
	case !s.serving:
		return "kube-apiserver: listening, not ready (" + s.detail + ")"
	case s.stuck != "":
		return "kube-apiserver: serving; " + s.stuck
	}
	return "kube-apiserver: serving; controller-manager and scheduler hold their leases"
}

func newProber(assetDir string, cfg *v1alpha1.BootstrapConfiguration) (*prober, error) {
	rc, err := clientcmd.BuildConfigFromFlags("", assets.Path(assetDir, assets.AdminKubeconfig))
	if err != nil {
		return nil, fmt.Errorf("%s: %w", assets.AdminKubeconfig, err)
	}
	rc.Host = assets.LoopbackURL(cfg)
	rc.Timeout = 3 * time.Second
	// A dialer of its own keeps the transport out of client-go's shared
	// cache, so that idle connections can be dropped between probes: a
	// connection to a kube-apiserver that is going away says nothing about
	// the next one.
	rc.Dial = (&net.Dialer{Timeout: time.Second}).DialContext
	hc, err := rest.HTTPClientFor(rc)
	if err != nil {
		return nil, err
	}
	cs, err := kubernetes.NewForConfigAndClient(rc, hc)
	if err != nil {
		return nil, err
	}
	u, err := url.Parse(rc.Host)
	if err != nil {
		return nil, err
	}
	return &prober{url: rc.Host, host: u.Host, cs: cs, hc: hc}, nil
}

func (p *prober) probe(ctx context.Context) state {
	defer p.hc.CloseIdleConnections()
	conn, err := (&net.Dialer{Timeout: time.Second}).DialContext(ctx, "tcp", p.host)
	if err != nil {
		return state{down: true, detail: shortErr(err)}
	}
	conn.Close()
	rctx, cancel := context.WithTimeout(ctx, 3*time.Second)
	defer cancel()
	body, err := p.cs.Discovery().RESTClient().Get().AbsPath("/readyz").DoRaw(rctx)
	if err != nil {
		return state{detail: shortErr(err)}
	}
	st := state{serving: true, detail: strings.TrimSpace(string(body))}
	for _, name := range []string{assets.KubeControllerManager, assets.KubeScheduler} {
		if why := p.leaseStale(rctx, name); why != "" {
			st.stuck = why
			break
		}
	}
	return st
}

// leaseStale says why a controller's lease is not held, "" if it is.
func (p *prober) leaseStale(ctx context.Context, name string) string {
	l, err := p.cs.CoordinationV1().Leases(assets.KubeSystem).Get(ctx, name, metav1.GetOptions{})
	if err != nil {
		return fmt.Sprintf("%s lease unreadable (%s)", name, shortErr(err))
	}
	s := l.Spec
	if s.HolderIdentity == nil || *s.HolderIdentity == "" || s.RenewTime == nil {
		return name + " lease not held"
	}
	d := 15 * time.Second
	if s.LeaseDurationSeconds != nil {
		d = time.Duration(*s.LeaseDurationSeconds) * time.Second
	}
	if age := time.Since(s.RenewTime.Time); age > d {
		return fmt.Sprintf("%s lease last renewed %s ago by %s", name, age.Round(time.Second), *s.HolderIdentity)
	}
	return ""
}

func shortErr(err error) string {
	s := err.Error()
	if i := strings.LastIndex(s, ": "); i >= 0 && len(s) > 120 {
		s = s[i+2:]
	}
	return s
}
