package tempcontrolplane

import (
	"context"
	"fmt"
	"net"
	"sync"
	"time"

	utilerrors "k8s.io/apimachinery/pkg/util/errors"
	genericapiserver "k8s.io/apiserver/pkg/server"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"
	"k8s.io/klog/v2"

	"github.com/bootstrap-k8s/bootstrap/pkg/assets"
	"github.com/bootstrap-k8s/bootstrap/pkg/kubeprobe"
)

// ControlPlane is the boot etcd member plus the temporary apiserver.
// Use New, then Start; ReadyNotify closes once both serve; Stop tears down
// in reverse order.
type ControlPlane struct {
	cfg   Config
	admin *rest.Config

	etcd     *bootEtcd
	bound    net.Listener      // the API port, bound by Listen or Start
	listener *trackingListener // bound, with the connections accepted on it
	lobby    *lobby            // answers the port until the apiserver serves (ListenAndHold)
	server   *genericapiserver.GenericAPIServer

	ready   chan struct{}
	errc    chan error
	cancel  context.CancelFunc
	runDone chan struct{}

	apiStopOnce sync.Once
	apiStopErr  error
	stopOnce    sync.Once
	stopErr     error
}

// New validates the configuration and reads the admin kubeconfig; it starts
// nothing.
func New(cfg Config) (*ControlPlane, error) {
	if err := cfg.complete(); err != nil {
		return nil, err
	}
	path := assets.Path(cfg.AssetDir, assets.AdminKubeconfig)
	admin, err := clientcmd.BuildConfigFromFlags("", path)
	if err != nil {
		return nil, fmt.Errorf("asset %s: %w (re-run `bootstrap render`)", path, err)
	}
	// Talk to this apiserver, whatever external URL the kubeconfig names.
	admin.Host = cfg.APIServerURL()
	admin.QPS, admin.Burst = 200, 400
	return &ControlPlane{cfg: cfg, admin: admin, ready: make(chan struct{}), errc: make(chan error, 2)}, nil
}

// Start boots etcd, then the apiserver, and waits (bounded by
// Config.ReadyTimeout and ctx) until the apiserver reports ready, which
// includes the system namespaces existing. On error everything started is
// stopped again.
func (c *ControlPlane) Start(ctx context.Context) (err error) {
	// Check the apiserver's PKI before etcd starts: fail before touching anything.
	if err := checkAPIServerPKI(c.cfg.AssetDir); err != nil {
		return err
	}
	if err := c.Listen(); err != nil {
		return err
	}
	t0 := time.Now()
	if len(c.cfg.ExternalEtcdEndpoints) == 0 {
		e, err := startEtcd(&c.cfg)
		if err != nil {
			c.closeBound()
			return err
		}
		c.etcd = e
		c.logf("boot etcd member ready at +%.2fs", time.Since(t0).Seconds())
	}
	defer func() {
		if err != nil {
			_ = c.Stop()
		}
	}()

	s, err := buildAPIServer(&c.cfg, c.admin, c.listener)
	if err != nil {
		c.closeBound()
		return err
	}
	c.server = s
	// http.Server.Shutdown waits for every connection to go idle, and a
	// watch never does: with a deadline of StopGracePeriod it failed (and
	// k8s.io/apiserver logged "Failed to shutdown server" at error level on
	// every hand-over). StopAPIServer closes the remaining connections
	// after StopGracePeriod, so Shutdown gets until after that to finish
	// cleanly; the 5 s match StopAPIServer's own limit.
	s.ShutdownTimeout = c.cfg.StopGracePeriod + closeAllLimit
	c.logf("apiserver built at +%.2fs", time.Since(t0).Seconds())
	prepared := s.PrepareRun()
	c.logf("apiserver prepared (OpenAPI, health checks) at +%.2fs", time.Since(t0).Seconds())
	if c.cfg.ServeAfter != nil { // before the run exists: Stop then closes only the listener
		select {
		case <-c.cfg.ServeAfter:
			c.logf("etcd serves at +%.2fs", time.Since(t0).Seconds())
		case <-ctx.Done():
			return fmt.Errorf("temporary apiserver built, waiting to serve: %w", ctx.Err())
		}
	}
	if c.lobby != nil {
		if err := c.lobby.handOff(c.bound); err != nil {
			return fmt.Errorf("taking the API port over from the lobby: %w", err)
		}
	}
	runCtx, cancel := context.WithCancel(context.Background())
	c.cancel = cancel
	c.runDone = make(chan struct{})
	runErr := make(chan error, 1)
	go func() {
		defer close(c.runDone)
		if err := prepared.RunWithContext(runCtx); err != nil {
			runErr <- err
		}
	}()
	if c.lobby != nil {
		// What the lobby held goes to the apiserver as soon as it serves,
		// not once it is ready: a client of this process shares its
		// connection with the post-start hooks' loopback client (client-go
		// caches transports), and readiness waits for those hooks.
		c.lobby.release(c.server.Handler)
	}
	c.logf("apiserver serving at +%.2fs", time.Since(t0).Seconds())

	if err := c.waitReady(ctx, runErr); err != nil {
		return err
	}
	close(c.ready)
	c.logf("apiserver ready at +%.2fs", time.Since(t0).Seconds())
	// From now on failures of either component surface on Err(); each is
	// watched on its own, so that etcd stays watched after StopAPIServer.
	if c.etcd != nil {
		go func() {
			if err, ok := <-c.etcd.Err(); ok && err != nil {
				c.report(fmt.Errorf("boot etcd member: %w", err))
			}
		}()
	}
	go func() {
		select {
		case err := <-runErr:
			c.report(fmt.Errorf("temporary apiserver: %w", err))
		case <-c.runDone:
		}
	}()
	return nil
}

// waitReady polls /readyz over the real TLS port with the admin identity, so
// "ready" means exactly what a client will see.
func (c *ControlPlane) waitReady(ctx context.Context, runErr <-chan error) error {
	client, err := kubeprobe.Fresh(c.admin)
	if err != nil {
		return err
	}
	defer client.Close()
	deadline := time.NewTimer(c.cfg.ReadyTimeout)
	defer deadline.Stop()
	var last error
	for {
		last = ready(ctx, client)
		if last == nil {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("waiting for the temporary apiserver: %w (last probe: %v)", ctx.Err(), last)
		case err := <-runErr:
			return fmt.Errorf("temporary apiserver failed to start: %w", err)
		case err := <-c.etcdErr():
			return fmt.Errorf("boot etcd member failed: %w", err)
		case <-deadline.C:
			return fmt.Errorf("temporary apiserver at %s not ready after %s: last /readyz probe: %v", c.cfg.APIServerURL(), c.cfg.ReadyTimeout, last)
		case <-time.After(20 * time.Millisecond):
		}
	}
}

// ready is one /readyz probe, bounded well below ReadyTimeout so that a
// stalled connection does not eat the whole budget.
func ready(ctx context.Context, client *kubeprobe.Client) error {
	ctx, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	return client.Ready(ctx)
}

// logf is Config.Logf, or klog at V(1) without one.
func (c *ControlPlane) logf(format string, args ...any) {
	if c.cfg.Logf != nil {
		c.cfg.Logf(format, args...)
		return
	}
	klog.V(1).Infof(format, args...)
}

// report delivers an error on Err without ever blocking: the first errors
// matter, later ones are dropped.
func (c *ControlPlane) report(err error) {
	select {
	case c.errc <- err:
	default:
	}
}

// ReadyNotify is closed once etcd and the apiserver serve.
func (c *ControlPlane) ReadyNotify() <-chan struct{} { return c.ready }

// Err delivers a failure of etcd or the apiserver after Start returned.
func (c *ControlPlane) Err() <-chan error { return c.errc }

// EtcdEndpoint is the boot member's client URL (TLS, client certs required),
// or the first external endpoint.
func (c *ControlPlane) EtcdEndpoint() string { return c.cfg.EtcdClientURLs()[0] }

// etcdErr is the boot member's error channel; nil (never ready) with an
// external etcd, which the apiserver's own readiness covers.
func (c *ControlPlane) etcdErr() <-chan error {
	if c.etcd == nil {
		return nil
	}
	return c.etcd.Err()
}

// APIServerURL is where the temporary apiserver listens.
func (c *ControlPlane) APIServerURL() string { return c.cfg.APIServerURL() }

// AdminConfig is a client config for the rendered admin identity pointed at
// this apiserver.
func (c *ControlPlane) AdminConfig() *rest.Config { return rest.CopyConfig(c.admin) }

// closeAllLimit is how long the apiserver gets to stop once StopAPIServer
// closed its connections.
const closeAllLimit = 5 * time.Second

// StopAPIServer stops only the temporary apiserver: new connections go to
// the self-hosted kube-apiserver sharing the port, in-flight requests get up
// to Config.StopGracePeriod, then remaining connections (watches) are closed
// so that clients reconnect at once. etcd keeps running, so that the boot
// member can be removed from the cluster before it stops. Safe to call
// repeatedly.
func (c *ControlPlane) StopAPIServer() error {
	c.apiStopOnce.Do(func() {
		var errs []error
		lobbyStopped := c.stopLobby()
		if c.cancel != nil {
			c.cancel()
			// The server stops taking requests at once and waits for the
			// short ones in flight; so does this (a second Wait is harmless).
			// Then only watches, which never end by themselves, hold its
			// connections: no need to sit out the whole grace period.
			drained := make(chan struct{})
			go func() { c.server.NonLongRunningRequestWaitGroup.Wait(); close(drained) }()
			grace := time.NewTimer(c.cfg.StopGracePeriod)
			select {
			case <-c.runDone:
			case <-drained:
				// A connection accepted until the listener closed is one
				// more to close: wait for that first.
				select {
				case <-c.listener.closed:
				case <-grace.C:
				}
				errs = append(errs, c.closeUntilStopped()...)
			case <-grace.C:
				// Watches and other long requests would hold the server for up
				// to a minute; the hand-over wants it gone now.
				errs = append(errs, c.closeUntilStopped()...)
			}
			grace.Stop()
			// A connection the stopped server left open would never answer
			// again: close it, so that its client reconnects.
			c.listener.closeAll()
		} else if c.listener != nil { // bound by Listen, never served
			errs = append(errs, c.listener.Close())
		}
		if c.cancel == nil && c.server != nil {
			// Built, never run: RunWithContext would have destroyed the
			// stores (and closed their etcd client) on its way out.
			c.server.Destroy()
		}
		if lobbyStopped != nil {
			<-lobbyStopped
			c.listener.closeAll()
		}
		c.apiStopErr = utilerrors.NewAggregate(errs)
	})
	return c.apiStopErr
}

// stopLobby begins a graceful stop of the lobby's server, bounded by
// StopGracePeriod, beside the apiserver's: requests it held get 503 if the
// apiserver never served, HTTP/2 clients are told to go away. The channel
// (nil without a lobby) closes when it is done; the connections still open
// then are closed with the apiserver's.
func (c *ControlPlane) stopLobby() <-chan struct{} {
	if c.lobby == nil {
		return nil
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		ctx, cancel := context.WithTimeout(context.Background(), c.cfg.StopGracePeriod)
		defer cancel()
		c.lobby.shutdown(ctx)
	}()
	return done
}

// closeUntilStopped closes the apiserver's connections until its run has
// ended (every 100 ms, so that a straggler accepted meanwhile goes too),
// for up to closeAllLimit.
func (c *ControlPlane) closeUntilStopped() []error {
	limit := time.NewTimer(closeAllLimit)
	defer limit.Stop()
	tick := time.NewTicker(100 * time.Millisecond)
	defer tick.Stop()
	for {
		c.listener.closeAll()
		select {
		case <-c.runDone:
			return nil
		case <-limit.C:
			return []error{fmt.Errorf("temporary apiserver did not stop within %s of closing its connections", closeAllLimit)}
		case <-tick.C:
		}
	}
}

// StopAccepting begins StopAPIServer in the background and returns as soon
// as the temporary apiserver accepts no new connection: from then on every
// new connection to the shared port reaches the self-hosted kube-apiserver.
// Its open connections get the rest of StopAPIServer (in-flight requests
// finish, watches are closed) while the caller goes on; StopAPIServer and
// Stop wait for that and return its outcome.
func (c *ControlPlane) StopAccepting() error {
	if c.listener == nil {
		return c.StopAPIServer()
	}
	go c.StopAPIServer()
	limit := time.NewTimer(c.cfg.StopGracePeriod + closeAllLimit)
	defer limit.Stop()
	select {
	case <-c.listener.closed:
		return nil
	case <-limit.C:
		return fmt.Errorf("temporary apiserver still accepted connections %s after it was told to stop", c.cfg.StopGracePeriod+closeAllLimit)
	}
}

// StopRemoved is Stop for a boot member that has just been removed from its
// cluster. etcd stops a removed member's server by itself; once it has
// (bounded by closeAllLimit) nothing writes to the data dir any more, and
// the rest of etcd's shutdown — up to a second of waiting for its peers'
// connections to go idle — goes on in the background, where a process that
// exits may cut it short: the member is out of the cluster and its data is
// scratch. The apiserver is stopped first, as Stop does.
func (c *ControlPlane) StopRemoved() error {
	c.stopOnce.Do(func() {
		err := c.StopAPIServer()
		if c.etcd != nil {
			c.etcd.closing.Store(true)
			select {
			case <-c.etcd.etcd.Server.StopNotify():
				go c.etcd.Close()
			case <-time.After(closeAllLimit):
				c.etcd.Close() // still running: stop it the usual way
			}
		}
		c.stopErr = err
	})
	return c.stopErr
}

// Stop stops the apiserver (see StopAPIServer) and then etcd. The data dir
// is kept. It is safe to call more than once.
func (c *ControlPlane) Stop() error {
	c.stopOnce.Do(func() {
		err := c.StopAPIServer()
		if c.etcd != nil {
			c.etcd.Close()
		}
		c.stopErr = err
	})
	return c.stopErr
}
