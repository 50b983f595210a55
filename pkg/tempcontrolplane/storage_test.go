package tempcontrolplane

import (
	"bytes"
	"context"
	"crypto/tls"
	"strings"
	"testing"
	"time"

	"go.etcd.io/etcd/client/pkg/v3/transport"
	clientv3 "go.etcd.io/etcd/client/v3"
	corev1 "k8s.io/api/core/v1"
	eventsv1 "k8s.io/api/events/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"

	"github.com/bootstrap-k8s/bootstrap/pkg/assets"
)

func etcdClient(t *testing.T, cp *testCP) *clientv3.Client {
	t.Helper()
	info := transport.TLSInfo{
		CertFile:      assets.Path(cp.assetDir, assets.APIServerEtcdClientCert),
		KeyFile:       assets.Path(cp.assetDir, assets.APIServerEtcdClientKey),
		TrustedCAFile: assets.Path(cp.assetDir, assets.EtcdCACert),
	}
	tc, err := info.ClientConfig()
	if err != nil {
		t.Fatal(err)
	}
	c, err := clientv3.New(clientv3.Config{Endpoints: []string{cp.EtcdEndpoint()}, TLS: tc, DialTimeout: 5 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

// TestEtcdLayout checks keys and encoding against what kube-apiserver v1.37
// writes: /registry/<resource>/<ns>/<name> with kube's special prefixes and
// protobuf values ("k8s\x00" + runtime.Unknown) in the storage version.
func TestEtcdLayout(t *testing.T) {
	cp := shared
	ctx := context.Background()
	ns := newNamespace(t, cp)
	for _, k := range servedKinds {
		if k.gvr.Resource == "namespaces" {
			continue
		}
		name := "layout-" + k.gvr.Resource
		if k.gvr.Group == "events.k8s.io" {
			name = "layout-events2" // same storage as core events
		}
		c := cp.dyn.Resource(k.gvr)
		var err error
		if k.namespaced {
			_, err = c.Namespace(ns).Create(ctx, newObject(k.gvr, name, ns, k.body), metav1.CreateOptions{})
		} else {
			_, err = c.Create(ctx, newObject(k.gvr, name, "", k.body), metav1.CreateOptions{})
		}
		if err != nil {
			t.Fatalf("create %s: %v", k.gvr, err)
		}
	}
	ec := etcdClient(t, cp)
	cases := []struct {
		key, apiVersion, kind string
	}{
		{"/registry/namespaces/" + ns, "v1", "Namespace"},
		{"/registry/minions/layout-nodes", "v1", "Node"},
		{"/registry/pods/" + ns + "/layout-pods", "v1", "Pod"},
		{"/registry/services/specs/" + ns + "/layout-services", "v1", "Service"},
		{"/registry/services/endpoints/" + ns + "/layout-endpoints", "v1", "Endpoints"},
		{"/registry/secrets/" + ns + "/layout-secrets", "v1", "Secret"},
		{"/registry/configmaps/" + ns + "/layout-configmaps", "v1", "ConfigMap"},
		{"/registry/events/" + ns + "/layout-events", "v1", "Event"},
		{"/registry/events/" + ns + "/layout-events2", "v1", "Event"}, // written through events.k8s.io/v1
		{"/registry/daemonsets/" + ns + "/layout-daemonsets", "apps/v1", "DaemonSet"},
		{"/registry/deployments/" + ns + "/layout-deployments", "apps/v1", "Deployment"},
		{"/registry/leases/" + ns + "/layout-leases", "coordination.k8s.io/v1", "Lease"},
		{"/registry/csinodes/layout-csinodes", "storage.k8s.io/v1", "CSINode"},
		{"/registry/clusterrolebindings/layout-clusterrolebindings", "rbac.authorization.k8s.io/v1", "ClusterRoleBinding"},
		{"/registry/priorityclasses/layout-priorityclasses", "scheduling.k8s.io/v1", "PriorityClass"},
		{"/registry/endpointslices/" + ns + "/layout-endpointslices", "discovery.k8s.io/v1", "EndpointSlice"},
	}
	for _, c := range cases {
		resp, err := ec.Get(ctx, c.key)
		if err != nil {
			t.Fatal(err)
		}
		if len(resp.Kvs) != 1 {
			t.Errorf("key %s: not found in etcd", c.key)
			continue
		}
		v := resp.Kvs[0].Value
		if strings.HasPrefix(c.key, "/registry/secrets/") {
			continue // encrypted at rest: TestSecretsEncryptedAtRest
		}
		if !bytes.HasPrefix(v, []byte("k8s\x00")) {
			t.Errorf("key %s: value does not start with k8s\\x00: %q", c.key, v[:min(len(v), 16)])
			continue
		}
		var u runtime.Unknown
		if err := u.Unmarshal(v[4:]); err != nil {
			t.Errorf("key %s: not a runtime.Unknown: %v", c.key, err)
			continue
		}
		if u.APIVersion != c.apiVersion || u.Kind != c.kind || u.ContentType != "" && u.ContentType != "application/vnd.kubernetes.protobuf" {
			t.Errorf("key %s: stored as %s %s (%q), want %s %s", c.key, u.APIVersion, u.Kind, u.ContentType, c.apiVersion, c.kind)
		}
	}

	// Events written through events.k8s.io are core/v1 Events in storage and
	// readable through both APIs.
	ev := &eventsv1.Event{ObjectMeta: metav1.ObjectMeta{Name: "shared-event"}, EventTime: metav1.NowMicro(), ReportingController: "c", ReportingInstance: "i",
		Action: "Act", Reason: "Why", Type: "Normal", Note: "hello", Regarding: corev1.ObjectReference{Kind: "Node", Name: "n"}}
	if _, err := cp.cs.EventsV1().Events(ns).Create(ctx, ev, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	core, err := cp.cs.CoreV1().Events(ns).Get(ctx, "shared-event", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if core.Message != "hello" || core.InvolvedObject.Name != "n" || core.ReportingController != "c" {
		t.Errorf("core view of an events.k8s.io event: %+v", core)
	}
}

// TestSecretsEncryptedAtRest: the temporary apiserver writes Secrets with
// the asset dir's EncryptionConfiguration (secretbox, key1), as
// kube-apiserver does, and reads them back; other resources stay plain.
func TestSecretsEncryptedAtRest(t *testing.T) {
	cp := shared
	ctx := context.Background()
	ns := newNamespace(t, cp)
	want := map[string][]byte{"password": []byte("s3cr3t-value-in-clear")}
	if _, err := cp.cs.CoreV1().Secrets(ns).Create(ctx, &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: "enc"}, Data: want}, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	if _, err := cp.cs.CoreV1().ConfigMaps(ns).Create(ctx, &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: "plain"}, Data: map[string]string{"a": "b"}}, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	ec := etcdClient(t, cp)
	resp, err := ec.Get(ctx, "/registry/secrets/"+ns+"/enc")
	if err != nil || len(resp.Kvs) != 1 {
		t.Fatalf("secret not in etcd: %v", err)
	}
	raw := resp.Kvs[0].Value
	if prefix := "k8s:enc:secretbox:v1:" + assets.EncryptionKeyName + ":"; !bytes.HasPrefix(raw, []byte(prefix)) {
		t.Errorf("etcd value starts %q, want %q", raw[:min(len(raw), 32)], prefix)
	}
	if bytes.Contains(raw, want["password"]) {
		t.Error("the etcd value contains the secret in clear")
	}
	got, err := cp.cs.CoreV1().Secrets(ns).Get(ctx, "enc", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got.Data["password"], want["password"]) {
		t.Errorf("read back %q, want %q", got.Data["password"], want["password"])
	}
	resp, err = ec.Get(ctx, "/registry/configmaps/"+ns+"/plain")
	if err != nil || len(resp.Kvs) != 1 || !bytes.HasPrefix(resp.Kvs[0].Value, []byte("k8s\x00")) {
		t.Errorf("a ConfigMap is not stored plain (only Secrets are encrypted): %v", err)
	}
}

// TestEtcdRequiresClientCert: the boot member refuses clients without a cert
// of the etcd CA.
func TestEtcdRequiresClientCert(t *testing.T) {
	info := transport.TLSInfo{TrustedCAFile: assets.Path(shared.assetDir, assets.EtcdCACert)}
	tc, err := info.ClientConfig()
	if err != nil {
		t.Fatal(err)
	}
	tc.Certificates = []tls.Certificate{}
	c, err := clientv3.New(clientv3.Config{Endpoints: []string{shared.EtcdEndpoint()}, TLS: tc, DialTimeout: 2 * time.Second})
	if err != nil {
		return
	}
	defer c.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
	defer cancel()
	if _, err := c.Get(ctx, "/registry/namespaces/default"); err == nil {
		t.Fatal("etcd answered a client without a certificate")
	}
}
