package join

import (
	"context"
	"crypto/tls"
	"net"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"k8s.io/client-go/tools/clientcmd"
	certutil "k8s.io/client-go/util/cert"
	"sigs.k8s.io/yaml"

	"github.com/bootstrap-k8s/bootstrap/pkg/assets"
	"github.com/bootstrap-k8s/bootstrap/pkg/failure"
	"github.com/bootstrap-k8s/bootstrap/pkg/token"
)

func pin(t *testing.T, assetDir string) string {
	t.Helper()
	certs, err := certutil.CertsFromFile(assets.Path(assetDir, assets.CACert))
	if err != nil {
		t.Fatal(err)
	}
	return token.CAHash(certs[0])
}

// nodeOptions are join options writing into a fresh node dir.
func nodeOptions(t *testing.T, server, tok, caHash string) Options {
	node := t.TempDir()
	return Options{
		Server: server, Token: tok, CAHashes: []string{caHash},
		KubernetesDir: filepath.Join(node, "etc", "kubernetes"),
		KubeletConfig: filepath.Join(node, "var", "lib", "kubelet", "config.yaml"),
		Timeout:       10 * time.Second, SignatureWait: 2 * time.Second,
	}
}

// nothingWritten fails if join left anything in the node dir.
func nothingWritten(t *testing.T, o Options) {
	t.Helper()
	for _, dir := range []string{filepath.Dir(o.KubernetesDir), filepath.Dir(filepath.Dir(o.KubeletConfig))} {
		_ = filepath.Walk(dir, func(p string, fi os.FileInfo, err error) error {
			if err == nil && !fi.IsDir() {
				t.Errorf("join wrote %s although it failed", p)
			}
			return nil
		})
	}
}

func TestJoinWritesVerifiedKubeletFiles(t *testing.T) {
	c := startCluster(t)
	ctx := context.Background()
	tok, err := token.Create(ctx, c.cp.Client, token.Options{TTL: time.Hour, Usages: token.DefaultUsages, Groups: []string{assets.BootstrapTokenGroup}}, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	c.sign(t, tok.String())
	o := nodeOptions(t, c.URL, tok.String(), pin(t, c.cp.AssetDir))
	// The node's own settings survive; the cluster's win where both set a field.
	o.NodeKubeletConfig = filepath.Join(t.TempDir(), "node.yaml")
	node := "apiVersion: kubelet.config.k8s.io/v1beta1\nkind: KubeletConfiguration\ncontainerRuntimeEndpoint: unix:///run/containerd/containerd.sock\ncgroupDriver: systemd\nauthentication:\n  anonymous:\n    enabled: true\n"
	if err := os.WriteFile(o.NodeKubeletConfig, []byte(node), 0o644); err != nil {
		t.Fatal(err)
	}
	res, err := Run(ctx, o)
	if err != nil {
		t.Fatal(err)
	}
	p := o.paths()
	if len(res.Files) != 3 || res.CAHash != o.CAHashes[0] || res.Server != c.cp.Config.APIServer.ExternalURL {
		t.Errorf("result %+v; want 3 files, pin %s, server %s", res, o.CAHashes[0], c.cp.Config.APIServer.ExternalURL)
	}
	for path, mode := range map[string]os.FileMode{p.CA: 0o644, p.BootstrapKubeconfig: 0o600, p.KubeletConfig: 0o644} {
		fi, err := os.Stat(path)
		if err != nil || fi.Mode().Perm() != mode {
			t.Errorf("%s: %v, mode %v; want %v", path, err, fi, mode)
		}
	}
	ca, _ := os.ReadFile(p.CA)
	want, _ := os.ReadFile(assets.Path(c.cp.AssetDir, assets.CACert))
	if string(ca) != string(want) {
		t.Errorf("%s is not the cluster CA", p.CA)
	}
	kc, err := clientcmd.LoadFromFile(p.BootstrapKubeconfig)
	if err != nil {
		t.Fatal(err)
	}
	ctxName := kc.Contexts[kc.CurrentContext]
	if ctxName == nil || kc.AuthInfos[ctxName.AuthInfo].Token != tok.String() || kc.Clusters[ctxName.Cluster].Server != res.Server ||
		string(kc.Clusters[ctxName.Cluster].CertificateAuthorityData) != string(want) {
		t.Errorf("bootstrap kubeconfig does not carry the token, the server and the CA: %+v", kc)
	}
	var cfg map[string]any
	data, _ := os.ReadFile(p.KubeletConfig)
	if err := yaml.Unmarshal(data, &cfg); err != nil {
		t.Fatal(err)
	}
	authn := cfg["authentication"].(map[string]any)
	if cfg["containerRuntimeEndpoint"] != "unix:///run/containerd/containerd.sock" || cfg["cgroupDriver"] != "systemd" ||
		authn["anonymous"].(map[string]any)["enabled"] != false || authn["x509"].(map[string]any)["clientCAFile"] != p.CA ||
		cfg["serverTLSBootstrap"] != true || cfg["clusterDomain"] != "cluster.local" {
		t.Errorf("kubelet config:\n%s\nwant the node's runtime and cgroup driver, the cluster's authentication (no anonymous, client CA %s), serving TLS bootstrap, DNS domain", data, p.CA)
	}
	if got := strings.Join(res.KubeletFlags, " "); !strings.Contains(got, "--bootstrap-kubeconfig="+p.BootstrapKubeconfig) || !strings.Contains(got, "--kubeconfig="+p.Kubeconfig) {
		t.Errorf("kubelet flags %q", got)
	}
	// A second join on the same node is refused before any request.
	if _, err := Run(ctx, o); failure.KindOf(err) != failure.KindPreflight || !strings.Contains(err.Error(), "joined already") {
		t.Errorf("second join: %v; want a preflight error saying the node joined already", err)
	}
}

func TestJoinRefusesBadInput(t *testing.T) {
	c := startCluster(t)
	ctx := context.Background()
	good, err := token.Create(ctx, c.cp.Client, token.Options{TTL: time.Hour, Usages: token.DefaultUsages}, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	c.sign(t, good.String())
	// Expired a minute ago, still signed: the signer has not caught up yet,
	// the authenticator refuses it.
	expired, err := token.Create(ctx, c.cp.Client, token.Options{TTL: time.Hour, Usages: token.DefaultUsages}, time.Now().Add(-61*time.Minute))
	if err != nil {
		t.Fatal(err)
	}
	c.sign(t, expired.String())
	caHash := pin(t, c.cp.AssetDir)
	closed := closedPort(t)
	mitm := mitmFront(t, c.URL)

	for _, tc := range []struct {
		name, server, token, hash string
		kind                      failure.Kind
		want                      string
	}{
		{"wrong secret", c.URL, good.ID + ".0123456789abcdef", caHash, failure.KindGeneral, "does not verify with the given token"},
		{"unknown token", c.URL, "zzzzzz.0123456789abcdef", caHash, failure.KindGeneral, "no signature for token ID zzzzzz"},
		{"expired token", c.URL, expired.String(), caHash, failure.KindGeneral, "rejects token " + expired.ID},
		{"wrong CA pin", c.URL, good.String(), "sha256:" + strings.Repeat("ab", 32), failure.KindGeneral, "refusing this server"},
		{"server not signed by the CA", mitm, good.String(), caHash, failure.KindGeneral, "verified with the pinned CA"},
		{"unreachable server", closed, good.String(), caHash, failure.KindGeneral, "cannot read cluster-info from " + closed},
		{"malformed token", c.URL, "not-a-token", caHash, failure.KindInvalidConfig, "--token is not a bootstrap token"},
		{"malformed pin", c.URL, good.String(), "md5:abc", failure.KindInvalidConfig, "is not a CA pin"},
		{"http server", "http://127.0.0.1:1", good.String(), caHash, failure.KindInvalidConfig, "is not an apiserver URL"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			o := nodeOptions(t, tc.server, tc.token, tc.hash)
			o.Timeout, o.SignatureWait = 5*time.Second, time.Second
			_, err := Run(ctx, o)
			if err == nil || failure.KindOf(err) != tc.kind || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("join: %v (kind %v); want a %v error containing %q", err, failure.KindOf(err), tc.kind, tc.want)
			}
			t.Logf("%s: %v", tc.name, err)
			nothingWritten(t, o)
		})
	}
}

// closedPort is an https URL where nothing listens.
func closedPort(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	_ = l.Close()
	return "https://" + addr
}

// mitmFront relays to the real front (so cluster-info, its signature and the
// CA are genuine) with a certificate the cluster CA did not sign.
func mitmFront(t *testing.T, upstream string) string {
	t.Helper()
	u, _ := url.Parse(upstream)
	p := httputil.NewSingleHostReverseProxy(u)
	p.Transport = &http.Transport{TLSClientConfig: &tls.Config{InsecureSkipVerify: true}} //nolint:gosec // the relay plays an attacker
	srv := httptest.NewTLSServer(p)
	t.Cleanup(srv.Close)
	return srv.URL
}

// TestWriteFilesKeepsIdenticalFiles: a file holding exactly the bytes join
// would write (the etcd CA a first join copied, kept by leave) is left as
// it is and not undone; a file with other bytes is still refused, and what
// was written before it is removed again.
func TestWriteFilesKeepsIdenticalFiles(t *testing.T) {
	dir := t.TempDir()
	same, other, fresh := filepath.Join(dir, "ca.crt"), filepath.Join(dir, "peer.crt"), filepath.Join(dir, "new.crt")
	if err := os.WriteFile(same, []byte("CA"), 0o644); err != nil {
		t.Fatal(err)
	}
	written, err := writeFiles([]file{{same, []byte("CA"), 0o644}, {fresh, []byte("N"), 0o644}})
	if err != nil || len(written) != 1 || written[0] != fresh {
		t.Fatalf("written %v, err %v; want only %s", written, err, fresh)
	}
	if err := os.WriteFile(other, []byte("mine"), 0o644); err != nil {
		t.Fatal(err)
	}
	later := filepath.Join(dir, "later.crt")
	if _, err := writeFiles([]file{{later, []byte("L"), 0o644}, {other, []byte("theirs"), 0o644}}); err == nil {
		t.Fatal("a file with other bytes was not refused")
	}
	if data, _ := os.ReadFile(other); string(data) != "mine" {
		t.Errorf("%s replaced: %q", other, data)
	}
	if _, err := os.Stat(later); !os.IsNotExist(err) {
		t.Errorf("%s not undone after the refusal", later)
	}
	if data, _ := os.ReadFile(same); string(data) != "CA" {
		t.Errorf("%s changed: %q", same, data)
	}
}
