package join

import (
	"bytes"
	"context"
	"crypto/tls"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/rest"
	bootstrapapi "k8s.io/cluster-bootstrap/token/api"
	"k8s.io/cluster-bootstrap/token/jws"
	bootstrapsecretutil "k8s.io/cluster-bootstrap/util/secrets"
	"sigs.k8s.io/yaml"

	"github.com/bootstrap-k8s/bootstrap/internal/testcontrolplane"
	"github.com/bootstrap-k8s/bootstrap/pkg/assets"
)

// cluster is a real apiserver (bootstrap's temporary one, on a real etcd)
// with the rendered cluster-info and kubelet-config ConfigMaps, behind a
// front that does what kube-apiserver does and the temporary apiserver
// (client certificates only) does not: anonymous reads of cluster-info
// only, bootstrap-token authentication from the token Secrets (expiry and
// usage checked as kube-apiserver's authenticator does), and the rendered
// RBAC for tokens (get kubelet-config). The front serves the cluster's own
// apiserver certificate. sign plays the bootstrap signer controller.
type testCluster struct {
	cp  *testcontrolplane.ControlPlane
	URL string
}

func startCluster(t *testing.T) *testCluster {
	t.Helper()
	cp := testcontrolplane.Start(t)
	ctx := context.Background()
	for _, f := range []string{"manifests/03-cluster-info.yaml", "manifests/04-kubelet-config.yaml"} {
		for _, cm := range configMaps(t, assets.Path(cp.AssetDir, f)) {
			if _, err := cp.Client.CoreV1().ConfigMaps(cm.Namespace).Create(ctx, cm, metav1.CreateOptions{}); err != nil {
				t.Fatalf("creating %s/%s: %v", cm.Namespace, cm.Name, err)
			}
		}
	}
	target, err := url.Parse(cp.Admin.Host)
	if err != nil {
		t.Fatal(err)
	}
	tr, err := rest.TransportFor(cp.Admin)
	if err != nil {
		t.Fatal(err)
	}
	proxy := &httputil.ReverseProxy{
		Rewrite:   func(r *httputil.ProxyRequest) { r.SetURL(target); r.Out.Header.Del("Authorization") },
		Transport: tr,
	}
	front := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		tok, hasToken := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
		switch {
		case !hasToken && r.Method == http.MethodGet && r.URL.Path == assets.ClusterInfoPath:
		case !hasToken:
			status(w, http.StatusUnauthorized)
			return
		case !validToken(r.Context(), cp, tok):
			status(w, http.StatusUnauthorized)
			return
		case r.Method != http.MethodGet || r.URL.Path != "/api/v1/namespaces/kube-system/configmaps/"+assets.KubeletConfigMap:
			status(w, http.StatusForbidden)
			return
		}
		proxy.ServeHTTP(w, r)
	})
	pair, err := tls.LoadX509KeyPair(assets.Path(cp.AssetDir, assets.APIServerCert), assets.Path(cp.AssetDir, assets.APIServerKey))
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewUnstartedServer(front)
	srv.TLS = &tls.Config{Certificates: []tls.Certificate{pair}, MinVersion: tls.VersionTLS12}
	srv.StartTLS()
	t.Cleanup(srv.Close)
	return &testCluster{cp: cp, URL: srv.URL}
}

// validToken is kube-apiserver's bootstrap token authenticator, in short.
func validToken(ctx context.Context, cp *testcontrolplane.ControlPlane, tok string) bool {
	id, secret, ok := strings.Cut(tok, ".")
	if !ok {
		return false
	}
	s, err := cp.Client.CoreV1().Secrets(metav1.NamespaceSystem).Get(ctx, bootstrapapi.BootstrapTokenSecretPrefix+id, metav1.GetOptions{})
	if err != nil {
		return false
	}
	return string(s.Data[bootstrapapi.BootstrapTokenSecretKey]) == secret &&
		string(s.Data[bootstrapapi.BootstrapTokenUsageAuthentication]) == "true" &&
		!bootstrapsecretutil.HasExpired(s, time.Now())
}

func status(w http.ResponseWriter, code int) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	_ = json.NewEncoder(w).Encode(&metav1.Status{
		TypeMeta: metav1.TypeMeta{APIVersion: "v1", Kind: "Status"}, Status: metav1.StatusFailure,
		Code: int32(code), Reason: metav1.StatusReason(http.StatusText(code)), Message: http.StatusText(code),
	})
}

// sign adds the signature of token id.secret to cluster-info, as the
// bootstrap signer controller does for every valid signing token.
func (c *testCluster) sign(t *testing.T, tok string) {
	t.Helper()
	ctx := context.Background()
	id, secret, _ := strings.Cut(tok, ".")
	cms := c.cp.Client.CoreV1().ConfigMaps(assets.KubePublic)
	cm, err := cms.Get(ctx, bootstrapapi.ConfigMapClusterInfo, metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	sig, err := jws.ComputeDetachedSignature(cm.Data[bootstrapapi.KubeConfigKey], id, secret)
	if err != nil {
		t.Fatal(err)
	}
	cm.Data[bootstrapapi.JWSSignatureKeyPrefix+id] = sig
	if _, err := cms.Update(ctx, cm, metav1.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}
}

func configMaps(t *testing.T, path string) []*corev1.ConfigMap {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var out []*corev1.ConfigMap
	for _, doc := range bytes.Split(data, []byte("\n---\n")) {
		var cm corev1.ConfigMap
		if err := yaml.Unmarshal(doc, &cm); err != nil {
			t.Fatal(err)
		}
		if cm.Kind == "ConfigMap" {
			out = append(out, &cm)
		}
	}
	return out
}
