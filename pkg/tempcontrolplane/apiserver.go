package tempcontrolplane

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"strings"
	"sync"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
	utilversion "k8s.io/apimachinery/pkg/util/version"
	"k8s.io/apimachinery/pkg/util/wait"
	apimachineryversion "k8s.io/apimachinery/pkg/version"
	"k8s.io/apiserver/pkg/authentication/request/x509"
	"k8s.io/apiserver/pkg/authorization/authorizer"
	openapinamer "k8s.io/apiserver/pkg/endpoints/openapi"
	genericapiserver "k8s.io/apiserver/pkg/server"
	"k8s.io/apiserver/pkg/server/dynamiccertificates"
	"k8s.io/apiserver/pkg/server/options/encryptionconfig"
	"k8s.io/apiserver/pkg/storage/storagebackend"
	"k8s.io/apiserver/pkg/storage/value"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"k8s.io/component-base/compatibility"
	"k8s.io/klog/v2"
	"k8s.io/kube-openapi/pkg/common"

	"github.com/bootstrap-k8s/bootstrap/pkg/assets"
	"github.com/bootstrap-k8s/bootstrap/pkg/tempcontrolplane/openapi"
	"github.com/bootstrap-k8s/bootstrap/pkg/tempcontrolplane/registry"
)

// libraryVersion is the Kubernetes minor k8s.io/apiserver implements; feature
// gates and API lifecycles are evaluated against it, whatever /version reports.
const libraryVersion = "1.37"

// buildAPIServer assembles the generic apiserver on tl (the port bound with
// SO_REUSEPORT by listenShared): TLS, x509 client-cert authentication
// against the cluster CA, an allow-list authorizer, the registry stores and
// the generated OpenAPI definitions.
func buildAPIServer(cfg *Config, admin *rest.Config, tl *trackingListener) (*genericapiserver.GenericAPIServer, error) {
	if err := checkAPIServerPKI(cfg.AssetDir); err != nil {
		return nil, err
	}
	caPEM, err := readAsset(cfg.AssetDir, assets.CACert)
	if err != nil {
		return nil, err
	}
	clientCA, err := dynamiccertificates.NewStaticCAContent("cluster-ca", caPEM)
	if err != nil {
		return nil, fmt.Errorf("asset %s: %w", assets.Path(cfg.AssetDir, assets.CACert), err)
	}

	certPEM, err := readAsset(cfg.AssetDir, assets.APIServerCert)
	if err != nil {
		return nil, err
	}
	keyPEM, err := readAsset(cfg.AssetDir, assets.APIServerKey)
	if err != nil {
		return nil, err
	}
	servingCert, err := dynamiccertificates.NewStaticCertKeyContent("serving-cert", certPEM, keyPEM)
	if err != nil {
		return nil, fmt.Errorf("asset %s: %w", assets.Path(cfg.AssetDir, assets.APIServerCert), err)
	}

	c := genericapiserver.NewConfig(registry.Codecs)
	minTLS, suites, err := tlsPolicy()
	if err != nil {
		return nil, err
	}
	c.SecureServing = &genericapiserver.SecureServingInfo{Listener: tl, Cert: servingCert, MinTLSVersion: minTLS, CipherSuites: suites}
	c.SecureServing.ClientCA = clientCA
	c.PublicAddress = net.ParseIP(cfg.BindAddress)
	c.ExternalAddress = net.JoinHostPort(cfg.BindAddress, fmt.Sprint(cfg.BindPort))

	// No anonymous authenticator: a request without a valid client cert is 401.
	c.Authentication.Authenticator = x509.NewDynamic(clientCA.VerifyOptions, x509.CommonNameUserConversion)
	c.Authorization.Authorizer = authorizer.AuthorizerFunc(allowListAuthorizer{}.Authorize)
	c.LoopbackClientConfig = admin

	ev := compatibility.NewEffectiveVersionFromString(libraryVersion, "", "")
	c.EffectiveVersion = reportedVersion{MutableEffectiveVersion: ev, gitVersion: cfg.KubernetesVersion}

	namer := openapinamer.NewDefinitionNamer(registry.PublicScheme)
	c.OpenAPIConfig = genericapiserver.DefaultOpenAPIConfig(openapi.GetOpenAPIDefinitions, namer)
	c.OpenAPIConfig.Info.Title = "Kubernetes"
	c.OpenAPIConfig.Info.Version = cfg.KubernetesVersion
	c.OpenAPIV3Config = genericapiserver.DefaultOpenAPIV3Config(openapi.GetOpenAPIDefinitions, namer)
	c.OpenAPIV3Config.Info.Title = "Kubernetes"
	c.OpenAPIV3Config.Info.Version = cfg.KubernetesVersion

	// Bootstrap has no audience for profiling or metrics, and a quick exit
	// matters more than graceful draining (see Stop).
	c.EnableProfiling = false
	c.ShutdownDelayDuration = 0
	c.ShutdownWatchTerminationGracePeriod = 0

	transformers, err := loadEncryption(cfg.AssetDir)
	if err != nil {
		return nil, err
	}
	apis, err := registry.Build(registry.Options{
		Transformers: transformers,
		Etcd: storagebackend.TransportConfig{
			ServerList:    cfg.EtcdClientURLs(),
			CertFile:      assets.Path(cfg.AssetDir, assets.APIServerEtcdClientCert),
			KeyFile:       assets.Path(cfg.AssetDir, assets.APIServerEtcdClientKey),
			TrustedCAFile: assets.Path(cfg.AssetDir, assets.EtcdCACert),
		},
		ServiceCIDR: cfg.ServiceCIDR,
	})
	if err != nil {
		return nil, err
	}

	s, err := c.Complete(nil).New("bootstrap-temporary-apiserver", genericapiserver.NewEmptyDelegate())
	if err != nil {
		return nil, err
	}
	s.ShutdownTimeout = cfg.StopGracePeriod
	if err := s.InstallLegacyAPIGroup(genericapiserver.DefaultLegacyAPIPrefix, apis.Legacy); err != nil {
		return nil, fmt.Errorf("installing the core API group: %w", err)
	}
	if err := s.InstallAPIGroups(apis.Groups...); err != nil {
		return nil, fmt.Errorf("installing API groups: %w", err)
	}
	// readyz includes post-start hooks: ready means the system namespaces exist.
	// A hook's error ends the process (k8s.io/apiserver exits on it), so a
	// transient one is retried: a recovery starts this apiserver while the
	// restored etcd member still elects itself, and writes fail until then.
	if err := s.AddPostStartHook("bootstrap-system-namespaces", func(hc genericapiserver.PostStartHookContext) error {
		var last error
		err := wait.PollUntilContextCancel(hc, 100*time.Millisecond, true, func(ctx context.Context) (bool, error) {
			err := createSystemNamespaces(ctx, hc.LoopbackClientConfig)
			if err != nil && last == nil { // said once: /readyz names this hook while it retries
				klog.InfoS("Creating the system namespaces failed; retrying", "err", err)
			}
			last = err
			return err == nil, nil
		})
		if err != nil && last != nil {
			klog.InfoS("Stopped creating the system namespaces", "reason", err, "lastError", last)
		}
		return nil // stopped with the server: nothing to report
	}); err != nil {
		return nil, err
	}
	return s, nil
}

// loadEncryption reads the asset dir's EncryptionConfiguration with
// kube-apiserver's own loader, so that the temporary apiserver writes Secrets
// exactly as encrypted as kube-apiserver will (and reads what kube-apiserver
// wrote, from a snapshot). An asset dir rendered before encryption at rest
// has none: values are then stored as they are.
func loadEncryption(assetDir string) (map[schema.GroupResource]value.Transformer, error) {
	p := assets.Path(assetDir, assets.EncryptionConfig)
	if _, err := os.Stat(p); errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	ec, err := encryptionconfig.LoadEncryptionConfig(context.Background(), p, false, "bootstrap-temporary-apiserver")
	if err != nil {
		return nil, fmt.Errorf("asset %s: %w", p, err)
	}
	return ec.Transformers, nil
}

func createSystemNamespaces(ctx context.Context, lc *rest.Config) error {
	cs, err := kubernetes.NewForConfig(lc)
	if err != nil {
		return err
	}
	for _, name := range registry.SystemNamespaces {
		_, err := cs.CoreV1().Namespaces().Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: name}}, metav1.CreateOptions{})
		if err != nil && !apierrors.IsAlreadyExists(err) {
			return fmt.Errorf("creating namespace %s: %w", name, err)
		}
	}
	return nil
}

// allowListAuthorizer admits only the identities bootstrapping needs. The real
// kube-apiserver's RBAC takes over at hand-over; until then nobody else (in
// particular no service account and no other node's workload) gets in.
type allowListAuthorizer struct{}

var allowedGroups = map[string]bool{
	assets.MastersGroup: true,
	assets.AdminGroup:   true,
	assets.NodesGroup:   true,
}

// healthPaths are the non-resource paths any authenticated identity may GET.
var healthPaths = map[string]bool{"/readyz": true, "/livez": true, "/healthz": true, "/version": true}

var allowedUsers = map[string]bool{
	assets.ControllerManagerUser: true,
	assets.SchedulerUser:         true,
	assets.KubeProxyUser:         true,
}

func (allowListAuthorizer) Authorize(_ context.Context, a authorizer.Attributes) (authorizer.Decision, string, error) {
	u := a.GetUser()
	if u == nil {
		return authorizer.DecisionDeny, "no user", nil
	}
	if allowedUsers[u.GetName()] || strings.HasPrefix(u.GetName(), "system:node:") {
		return authorizer.DecisionAllow, "", nil
	}
	// Health endpoints, for any authenticated client (kube-apiserver's
	// system:public-info-viewer grants the same to system:authenticated): a
	// load balancer checks /readyz with a client certificate of its own and
	// must see the temporary apiserver ready, or it would not route the
	// kubelet's requests to it during start.
	if !a.IsResourceRequest() && a.GetVerb() == "get" && healthPaths[a.GetPath()] {
		return authorizer.DecisionAllow, "", nil
	}
	for _, g := range u.GetGroups() {
		if allowedGroups[g] {
			return authorizer.DecisionAllow, "", nil
		}
	}
	return authorizer.DecisionDeny, fmt.Sprintf("user %q is not allowed on the temporary bootstrap apiserver", u.GetName()), nil
}

// reportedVersion makes /version answer with the configured Kubernetes version
// (kubectl and the kubelet parse it) instead of the library's v0.0.0-master.
type reportedVersion struct {
	compatibility.MutableEffectiveVersion
	gitVersion string
}

func (r reportedVersion) Info() *apimachineryversion.Info {
	info := r.MutableEffectiveVersion.Info()
	if info == nil {
		return nil
	}
	out := *info
	out.GitVersion = r.gitVersion
	if v, err := utilversion.ParseGeneric(r.gitVersion); err == nil {
		out.Major, out.Minor = fmt.Sprint(v.Major()), fmt.Sprint(v.Minor())
	}
	out.GitCommit, out.GitTreeState, out.BuildDate = TemporaryGitCommit, "", ""
	return &out
}

// trackingListener remembers accepted connections so that Stop can close
// long-lived ones (watches) instead of waiting for them to end.
type trackingListener struct {
	net.Listener
	mu    sync.Mutex
	conns map[net.Conn]struct{}

	closeOnce sync.Once
	closed    chan struct{} // closed once the listener no longer accepts
}

func newTrackingListener(ln net.Listener) *trackingListener {
	return &trackingListener{Listener: ln, conns: map[net.Conn]struct{}{}, closed: make(chan struct{})}
}

// Close stops accepting; the server's shutdown calls it.
func (l *trackingListener) Close() error {
	err := l.Listener.Close()
	l.closeOnce.Do(func() { close(l.closed) })
	return err
}

func (l *trackingListener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err != nil {
		return nil, err
	}
	tc := &trackedConn{Conn: c, l: l}
	l.mu.Lock()
	l.conns[tc] = struct{}{}
	l.mu.Unlock()
	return tc, nil
}

func (l *trackingListener) closeAll() {
	l.mu.Lock()
	defer l.mu.Unlock()
	for c := range l.conns {
		c.(*trackedConn).Conn.Close()
	}
	l.conns = map[net.Conn]struct{}{}
}

type trackedConn struct {
	net.Conn
	l    *trackingListener
	once sync.Once
}

func (c *trackedConn) Close() error {
	c.once.Do(func() {
		c.l.mu.Lock()
		delete(c.l.conns, c)
		c.l.mu.Unlock()
	})
	return c.Conn.Close()
}

var _ common.GetOpenAPIDefinitions = openapi.GetOpenAPIDefinitions
