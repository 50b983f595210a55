//go:build e2e

package framework

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"k8s.io/client-go/tools/clientcmd"

	"github.com/bootstrap-k8s/bootstrap/pkg/assets"
	"github.com/bootstrap-k8s/bootstrap/pkg/endpoints"
	"github.com/bootstrap-k8s/bootstrap/pkg/kubeprobe"
)

// KubeAPIServerOptions configure StartKubeAPIServer.
type KubeAPIServerOptions struct {
	// AssetDir supplies certificates, keys and the CA (required).
	AssetDir string
	// EtcdServers is the etcd client URL list, e.g. "https://10.250.0.2:12379" (required).
	// The client certificate is tls/apiserver-etcd-client.{crt,key}, the CA tls/etcd/ca.crt.
	EtcdServers string
	// OnHost runs kube-apiserver in the host's network namespace (to reach an
	// etcd the test process embeds on 127.0.0.1); it then binds 127.0.0.1 (a
	// SAN of the rendered serving certificate) and advertises the host end of
	// the veth pair (node.HostIP: kube-apiserver refuses a loopback advertise
	// address). Default: inside the node's netns, binding and advertising node.IP.
	OnHost bool
	// BindAddress and AdvertiseAddress override the defaults above. The URL
	// uses BindAddress, which must be a SAN of tls/apiserver.crt.
	BindAddress, AdvertiseAddress string
	// Port is the secure port (default 16443, so it never collides with the
	// temporary or self-hosted apiserver on 6443).
	Port int
	// ServiceCIDR (default 10.96.0.0/12).
	ServiceCIDR string
	// ExtraArgs are added to / override the command line (name without "--"). For
	// a read-only comparison consider "endpoint-reconciler-type": "none".
	ExtraArgs map[string]string
	// Name of the process/log (default "kube-apiserver").
	Name string
	// ReadyTimeout bounds the wait for /readyz (default 90s).
	ReadyTimeout time.Duration
}

// KubeAPIServer is a running real kube-apiserver (hack/_output/bin/kube-apiserver).
type KubeAPIServer struct {
	*Process
	// URL is https://<bind address>:<port>.
	URL string
	// Kubeconfig is a super-admin (system:masters) kubeconfig for URL, written to the node's work dir.
	Kubeconfig string
}

// StartKubeAPIServer starts the real kube-apiserver built by hack/ against an
// existing etcd and an asset dir, waits until /readyz answers and returns it
// with a kubeconfig. The process is stopped at test cleanup.
func StartKubeAPIServer(t testing.TB, n *Node, o KubeAPIServerOptions) *KubeAPIServer {
	t.Helper()
	if o.AssetDir == "" || o.EtcdServers == "" {
		t.Fatal("StartKubeAPIServer: AssetDir and EtcdServers are required")
	}
	if o.Port == 0 {
		o.Port = 16443
	}
	if o.Name == "" {
		o.Name = "kube-apiserver"
	}
	if o.ServiceCIDR == "" {
		o.ServiceCIDR = "10.96.0.0/12"
	}
	if o.ReadyTimeout == 0 {
		o.ReadyTimeout = 90 * time.Second
	}
	addr, adv := n.IP, n.IP
	if o.OnHost {
		addr, adv = "127.0.0.1", n.HostIP
	}
	if o.BindAddress != "" {
		addr = o.BindAddress
	}
	if o.AdvertiseAddress != "" {
		adv = o.AdvertiseAddress
	}
	a := func(rel string) string { return assets.Path(o.AssetDir, rel) }
	flags := map[string]string{
		"advertise-address":                  adv,
		"bind-address":                       addr,
		"secure-port":                        strconv.Itoa(o.Port),
		"allow-privileged":                   "true",
		"authorization-mode":                 "Node,RBAC",
		"client-ca-file":                     a(assets.CACert),
		"enable-admission-plugins":           "NodeRestriction",
		"etcd-servers":                       o.EtcdServers,
		"etcd-cafile":                        a(assets.EtcdCACert),
		"etcd-certfile":                      a(assets.APIServerEtcdClientCert),
		"etcd-keyfile":                       a(assets.APIServerEtcdClientKey),
		"kubelet-client-certificate":         a(assets.APIServerKubeletCert),
		"kubelet-client-key":                 a(assets.APIServerKubeletKey),
		"kubelet-preferred-address-types":    "InternalIP,ExternalIP,Hostname",
		"permit-port-sharing":                "true",
		"profiling":                          "false",
		"proxy-client-cert-file":             a(assets.FrontProxyClientCert),
		"proxy-client-key-file":              a(assets.FrontProxyClientKey),
		"requestheader-allowed-names":        assets.FrontProxyClientUser,
		"requestheader-client-ca-file":       a(assets.FrontProxyCACert),
		"requestheader-extra-headers-prefix": "X-Remote-Extra-",
		"requestheader-group-headers":        "X-Remote-Group",
		"requestheader-username-headers":     "X-Remote-User",
		"service-account-issuer":             "https://kubernetes.default.svc.cluster.local",
		"service-account-key-file":           a(assets.ServiceAccountPub),
		"service-account-signing-key-file":   a(assets.ServiceAccountKey),
		"service-cluster-ip-range":           o.ServiceCIDR,
		"tls-cert-file":                      a(assets.APIServerCert),
		"tls-private-key-file":               a(assets.APIServerKey),
		// Stop quickly: the test kills it anyway.
		"shutdown-delay-duration":                 "0s",
		"shutdown-watch-termination-grace-period": "0s",
	}
	for k, v := range o.ExtraArgs {
		flags[k] = v
	}
	argv := []string{Bin("kube-apiserver")}
	keys := make([]string, 0, len(flags))
	for k := range flags {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		argv = append(argv, "--"+k+"="+flags[k])
	}
	p := n.startStoppedAtCleanup(t, o.Name, o.OnHost, argv...)
	s := &KubeAPIServer{Process: p, URL: endpoints.HTTPS(addr, int32(o.Port))}

	// A super-admin kubeconfig pointing at this server.
	kc, err := RewriteKubeconfigServer(a(assets.SuperAdminKubeconfig), s.URL, filepath.Join(n.Work, o.Name+".kubeconfig"))
	if err != nil {
		t.Fatal(err)
	}
	s.Kubeconfig = kc
	cfg, err := clientcmd.BuildConfigFromFlags("", kc)
	if err != nil {
		t.Fatal(err)
	}

	WaitT(t, fmt.Sprintf("%s %s /readyz", o.Name, s.URL), o.ReadyTimeout, func(ctx context.Context) (bool, string, error) {
		if done, err := p.Exited(); done {
			return false, "", fmt.Errorf("%s exited: %v; log tail:\n%s", o.Name, err, p.Tail(30))
		}
		c, err := kubeprobe.Fresh(cfg)
		if err != nil {
			return false, "", err
		}
		defer c.Close()
		if err := c.Ready(ctx); err != nil {
			return false, "", err
		}
		return true, "", nil
	})
	return s
}

// RewriteKubeconfigServer copies a kubeconfig with its server URL(s) replaced.
func RewriteKubeconfigServer(src, server, dst string) (string, error) {
	b, err := os.ReadFile(src)
	if err != nil {
		return "", err
	}
	var out []string
	for _, l := range strings.Split(string(b), "\n") {
		if strings.HasPrefix(strings.TrimSpace(l), "server: ") {
			l = l[:strings.Index(l, "server: ")] + "server: " + server
		}
		out = append(out, l)
	}
	return dst, os.WriteFile(dst, []byte(strings.Join(out, "\n")), 0o600)
}

// EtcdOptions configure StartEtcd.
type EtcdOptions struct {
	AssetDir string // server/peer certificates and CA from tls/etcd (required)
	// ClientPort and PeerPort (default 22379 and 22380: distinct from the
	// persistent member's 2379/2380 and the boot member's 12379/12380).
	ClientPort, PeerPort int
	DataDir              string // default <work>/etcd-<name>
	OnHost               bool   // run in the host's netns, listening on 127.0.0.1 (a SAN of the etcd certificates)
	Name                 string // member and process name (default "etcd-real")
}

// Etcd is a running real etcd (hack/_output/bin/etcd).
type Etcd struct {
	*Process
	ClientURL string
}

// StartEtcd starts a single-member real etcd with the asset dir's etcd
// certificates (client-cert auth on), listening on the node IP (or the host
// end of the veth) and 127.0.0.1 of its netns, and waits for it to serve.
func StartEtcd(t testing.TB, n *Node, o EtcdOptions) *Etcd {
	t.Helper()
	if o.ClientPort == 0 {
		o.ClientPort = 22379
	}
	if o.PeerPort == 0 {
		o.PeerPort = 22380
	}
	if o.Name == "" {
		o.Name = "etcd-real"
	}
	if o.DataDir == "" {
		o.DataDir = filepath.Join(n.Work, o.Name)
	}
	ip := n.IP
	if o.OnHost {
		ip = "127.0.0.1"
	}
	a := func(rel string) string { return assets.Path(o.AssetDir, rel) }
	client := endpoints.HTTPS(ip, int32(o.ClientPort))
	peer := endpoints.HTTPS(ip, int32(o.PeerPort))
	argv := []string{Bin("etcd"),
		"--name=" + o.Name, "--data-dir=" + o.DataDir,
		"--listen-client-urls=" + client, "--advertise-client-urls=" + client,
		"--listen-peer-urls=" + peer, "--initial-advertise-peer-urls=" + peer,
		"--initial-cluster=" + o.Name + "=" + peer, "--initial-cluster-state=new",
		"--cert-file=" + a(assets.EtcdServerCert), "--key-file=" + a(assets.EtcdServerKey),
		"--trusted-ca-file=" + a(assets.EtcdCACert), "--client-cert-auth=true",
		"--peer-cert-file=" + a(assets.EtcdPeerCert), "--peer-key-file=" + a(assets.EtcdPeerKey),
		"--peer-trusted-ca-file=" + a(assets.EtcdCACert), "--peer-client-cert-auth=true",
		"--log-level=warn",
	}
	p := n.startStoppedAtCleanup(t, o.Name, o.OnHost, argv...)
	WaitT(t, fmt.Sprintf("%s serving on %s", o.Name, client), 60*time.Second, func(ctx context.Context) (bool, string, error) {
		if done, err := p.Exited(); done {
			return false, "", fmt.Errorf("%s exited: %v; log tail:\n%s", o.Name, err, p.Tail(30))
		}
		argv := []string{Bin("etcdctl"), "--endpoints=" + client, "--cacert=" + a(assets.EtcdCACert),
			"--cert=" + a(assets.EtcdHealthcheckCert), "--key=" + a(assets.EtcdHealthcheckKey), "endpoint", "health"}
		var out []byte
		var err error
		if o.OnHost {
			out, err = exec.CommandContext(ctx, argv[0], argv[1:]...).CombinedOutput()
		} else {
			var s string
			s, err = n.Exec(ctx, argv...)
			out = []byte(s)
		}
		return err == nil, strings.TrimSpace(string(out)), err
	})
	return &Etcd{Process: p, ClientURL: client}
}

// startStoppedAtCleanup starts argv in the node's netns (or the host's) and
// stops it when the test ends, unless the node is kept.
func (n *Node) startStoppedAtCleanup(t testing.TB, name string, onHost bool, argv ...string) *Process {
	t.Helper()
	p := n.start(t, name, onHost, nil, argv...)
	t.Cleanup(func() {
		if !Keep() {
			p.Stop(5 * time.Second)
		}
	})
	return p
}
