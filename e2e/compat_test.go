//go:build e2e

package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"go.etcd.io/etcd/client/pkg/v3/transport"
	clientv3 "go.etcd.io/etcd/client/v3"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"
	yamlutil "k8s.io/apimachinery/pkg/util/yaml"
	"k8s.io/client-go/discovery"
	"k8s.io/client-go/discovery/cached/memory"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/restmapper"
	"k8s.io/client-go/tools/clientcmd"

	"github.com/bootstrap-k8s/bootstrap/e2e/framework"
	"github.com/bootstrap-k8s/bootstrap/pkg/assets"
	"github.com/bootstrap-k8s/bootstrap/pkg/tempcontrolplane"
)

type jsonObj = map[string]any

// compatObjects is one object of every kind the temporary apiserver serves,
// written with few fields set so that defaulting and strategies decide most
// of what is stored.
var compatObjects = []struct {
	gvr        schema.GroupVersionResource
	kind       string
	namespaced bool
	body       jsonObj
	name       string // default compat-<resource>[-<group>]
}{
	{gv("", "v1", "namespaces"), "Namespace", false, jsonObj{}, ""},
	{gv("", "v1", "nodes"), "Node", false, jsonObj{"metadata": jsonObj{"labels": jsonObj{"kubernetes.io/hostname": "compat"}}}, ""},
	{gv("", "v1", "pods"), "Pod", true, jsonObj{"spec": compatPodSpec(true)}, ""},
	{gv("", "v1", "services"), "Service", true, jsonObj{"spec": jsonObj{"selector": jsonObj{"app": "x"}, "ports": []any{jsonObj{"name": "dns", "port": 53, "protocol": "UDP"}, jsonObj{"name": "http", "port": 80, "targetPort": "web"}}}}, ""},
	{gv("", "v1", "endpoints"), "Endpoints", true, jsonObj{"subsets": []any{jsonObj{"addresses": []any{jsonObj{"ip": "10.0.0.1"}}, "ports": []any{jsonObj{"port": 80}}}}}, ""},
	{gv("", "v1", "secrets"), "Secret", true, jsonObj{"data": jsonObj{"k": "dg=="}}, ""},
	{gv("", "v1", "configmaps"), "ConfigMap", true, jsonObj{"data": jsonObj{"k": "v"}}, ""},
	{gv("", "v1", "serviceaccounts"), "ServiceAccount", true, jsonObj{"automountServiceAccountToken": false}, ""},
	{gv("", "v1", "events"), "Event", true, jsonObj{"involvedObject": jsonObj{"kind": "Pod", "name": "p", "namespace": "compat"}, "reason": "Test", "message": "m", "type": "Normal", "source": jsonObj{"component": "kubelet"}, "count": 1}, ""},
	{gv("events.k8s.io", "v1", "events"), "Event", true, jsonObj{"eventTime": "2026-11-24T20:00:00.000000Z", "reportingController": "test", "reportingInstance": "i", "action": "A", "reason": "R", "type": "Normal", "note": "n", "regarding": jsonObj{"kind": "Pod", "name": "p"}}, ""},
	{gv("apps", "v1", "daemonsets"), "DaemonSet", true, jsonObj{"spec": compatWorkloadSpec()}, ""},
	{gv("apps", "v1", "deployments"), "Deployment", true, jsonObj{"spec": compatWorkloadSpec()}, ""},
	{gv("apps", "v1", "replicasets"), "ReplicaSet", true, jsonObj{"spec": compatWorkloadSpec()}, ""},
	{gv("apps", "v1", "controllerrevisions"), "ControllerRevision", true, jsonObj{"revision": 1, "data": jsonObj{"spec": jsonObj{}}}, ""},
	{gv("coordination.k8s.io", "v1", "leases"), "Lease", true, jsonObj{"spec": jsonObj{"holderIdentity": "compat", "leaseDurationSeconds": 40, "renewTime": "2026-11-24T20:00:00.000000Z"}}, ""},
	{gv("storage.k8s.io", "v1", "csinodes"), "CSINode", false, jsonObj{"spec": jsonObj{"drivers": []any{}}}, ""},
	{gv("storage.k8s.io", "v1", "csidrivers"), "CSIDriver", false, jsonObj{"spec": jsonObj{}}, ""},
	{gv("node.k8s.io", "v1", "runtimeclasses"), "RuntimeClass", false, jsonObj{"handler": "runc"}, ""},
	{gv("rbac.authorization.k8s.io", "v1", "roles"), "Role", true, jsonObj{"rules": []any{jsonObj{"apiGroups": []any{""}, "resources": []any{"pods"}, "verbs": []any{"get"}}}}, ""},
	{gv("rbac.authorization.k8s.io", "v1", "rolebindings"), "RoleBinding", true, jsonObj{"roleRef": jsonObj{"kind": "Role", "name": "r"}, "subjects": []any{jsonObj{"kind": "User", "name": "u"}}}, ""},
	{gv("rbac.authorization.k8s.io", "v1", "clusterroles"), "ClusterRole", false, jsonObj{"rules": []any{jsonObj{"nonResourceURLs": []any{"/healthz"}, "verbs": []any{"get"}}}}, ""},
	{gv("rbac.authorization.k8s.io", "v1", "clusterrolebindings"), "ClusterRoleBinding", false, jsonObj{"roleRef": jsonObj{"kind": "ClusterRole", "name": "r"}, "subjects": []any{jsonObj{"kind": "Group", "name": "g"}, jsonObj{"kind": "ServiceAccount", "name": "sa", "namespace": "compat"}}}, ""},
	{gv("policy", "v1", "poddisruptionbudgets"), "PodDisruptionBudget", true, jsonObj{"spec": jsonObj{"minAvailable": 1, "selector": jsonObj{"matchLabels": jsonObj{"app": "x"}}}}, ""},
	{gv("scheduling.k8s.io", "v1", "priorityclasses"), "PriorityClass", false, jsonObj{"value": 1000}, ""},
	{gv("", "v1", "services"), "Service", true, jsonObj{"spec": jsonObj{"clusterIP": "None", "selector": jsonObj{"app": "x"}, "ports": []any{jsonObj{"port": 53}}}}, "compat-headless"},
	{gv("", "v1", "services"), "Service", true, jsonObj{"spec": jsonObj{"type": "ExternalName", "externalName": "example.com"}}, "compat-external"},
	{gv("", "v1", "services"), "Service", true, jsonObj{"spec": jsonObj{"clusterIP": "10.96.0.20", "sessionAffinity": "ClientIP", "ports": []any{jsonObj{"port": 53, "protocol": "UDP"}}}}, "compat-dns"},
	{gv("", "v1", "pods"), "Pod", true, jsonObj{"spec": jsonObj{"containers": []any{jsonObj{"name": "c", "image": "busybox:1.36", "resources": jsonObj{"requests": jsonObj{"cpu": "10m"}}}}, "schedulingGates": []any{jsonObj{"name": "wait"}}}}, "compat-unscheduled"},
	{gv("discovery.k8s.io", "v1", "endpointslices"), "EndpointSlice", true, jsonObj{"addressType": "IPv4", "endpoints": []any{jsonObj{"addresses": []any{"10.0.0.1"}}}, "ports": []any{jsonObj{"port": 80}}}, ""},
}

func gv(g, v, r string) schema.GroupVersionResource {
	return schema.GroupVersionResource{Group: g, Version: v, Resource: r}
}

func compatPodSpec(hostNetwork bool) jsonObj {
	return jsonObj{
		"hostNetwork": hostNetwork,
		"nodeName":    "compat",
		"containers": []any{jsonObj{
			"name": "c", "image": "registry.k8s.io/pause:3.10.2",
			"ports":          []any{jsonObj{"containerPort": 8080, "name": "web"}},
			"env":            []any{jsonObj{"name": "NODE", "valueFrom": jsonObj{"fieldRef": jsonObj{"fieldPath": "spec.nodeName"}}}},
			"livenessProbe":  jsonObj{"httpGet": jsonObj{"port": 8080}},
			"readinessProbe": jsonObj{"tcpSocket": jsonObj{"port": 8080}},
			"startupProbe":   jsonObj{"exec": jsonObj{"command": []any{"true"}}},
			"resources":      jsonObj{"limits": jsonObj{"cpu": "100m", "memory": "64Mi"}},
			"volumeMounts":   []any{jsonObj{"name": "cfg", "mountPath": "/cfg"}, jsonObj{"name": "host", "mountPath": "/host"}},
			"lifecycle":      jsonObj{"preStop": jsonObj{"httpGet": jsonObj{"port": 8080, "path": "/stop"}}},
		}},
		"initContainers": []any{jsonObj{"name": "init", "image": "busybox"}},
		"volumes": []any{
			jsonObj{"name": "cfg", "configMap": jsonObj{"name": "cm"}},
			jsonObj{"name": "sec", "secret": jsonObj{"secretName": "s"}},
			jsonObj{"name": "host", "hostPath": jsonObj{"path": "/etc/kubernetes"}},
			jsonObj{"name": "scratch"},
			jsonObj{"name": "proj", "projected": jsonObj{"sources": []any{jsonObj{"serviceAccountToken": jsonObj{"path": "token"}}, jsonObj{"downwardAPI": jsonObj{"items": []any{jsonObj{"path": "name", "fieldRef": jsonObj{"fieldPath": "metadata.name"}}}}}}}},
		},
		"tolerations": []any{jsonObj{"operator": "Exists"}},
	}
}

func compatWorkloadSpec() jsonObj {
	spec := compatPodSpec(true)
	delete(spec, "nodeName")
	return jsonObj{
		"selector": jsonObj{"matchLabels": jsonObj{"app": "x"}},
		"template": jsonObj{"metadata": jsonObj{"labels": jsonObj{"app": "x"}}, "spec": spec},
	}
}

// compatAllowList are fields allowed to differ between what the temporary
// apiserver served and what a real kube-apiserver serves from the same etcd
// data. Keep it empty but for reasons written here.
var compatAllowList = []string{}

func freeLocalPort(t *testing.T) int {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// TestCompatibilityWithKubeAPIServer is the storage compatibility proof: the
// temporary control plane writes one object of every served kind (plus the
// writes a kubelet makes), then a real kube-apiserver v1.37 starts on the same
// etcd, and every object must read back identically, field for field.
func TestCompatibilityWithKubeAPIServer(t *testing.T) {
	node := framework.StartNode(t, framework.NodeOptions{})
	assetDir := node.Render(t)
	ctx := context.Background()

	// The temporary control plane runs in this process, on 127.0.0.1 (a SAN of
	// the rendered certificates), so the real kube-apiserver runs on the host.
	cfg := tempcontrolplane.Config{
		AssetDir: assetDir, BindAddress: "127.0.0.1", BindPort: freeLocalPort(t),
		EtcdName: "compat", EtcdDataDir: filepath.Join(t.TempDir(), "etcd"),
		EtcdClientPort: freeLocalPort(t), EtcdPeerPort: freeLocalPort(t),
		KubernetesVersion: framework.KubernetesVersion, ServiceCIDR: "10.96.0.0/12",
	}
	cp, err := tempcontrolplane.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	sctx, cancel := context.WithTimeout(ctx, 60*time.Second)
	defer cancel()
	if err := cp.Start(sctx); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cp.Stop() })
	temp := dynamic.NewForConfigOrDie(cp.AdminConfig())

	const ns = "compat"
	nsObj := &unstructured.Unstructured{Object: jsonObj{"apiVersion": "v1", "kind": "Namespace", "metadata": jsonObj{"name": ns}}}
	if _, err := temp.Resource(gv("", "v1", "namespaces")).Create(ctx, nsObj, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	type ref struct {
		gvr       schema.GroupVersionResource
		namespace string
		name      string
	}
	var refs []ref
	for _, o := range compatObjects {
		name := o.name
		if name == "" {
			name = "compat-" + o.gvr.Resource
			if o.gvr.Group != "" {
				name += "-" + strings.Split(o.gvr.Group, ".")[0]
			}
		}
		u := &unstructured.Unstructured{Object: jsonObj{}}
		for k, v := range o.body {
			u.Object[k] = v
		}
		u.SetAPIVersion(schema.GroupVersion{Group: o.gvr.Group, Version: o.gvr.Version}.String())
		u.SetKind(o.kind)
		u.SetName(name)
		r := ref{gvr: o.gvr, name: name}
		ri := temp.Resource(o.gvr)
		var c dynamic.ResourceInterface = ri
		if o.namespaced {
			u.SetNamespace(ns)
			r.namespace = ns
			c = ri.Namespace(ns)
		}
		if _, err := c.Create(ctx, u, metav1.CreateOptions{FieldManager: "compat"}); err != nil {
			t.Fatalf("create %s %s: %v", o.gvr, name, err)
		}
		refs = append(refs, r)
	}
	// What a kubelet writes after creation: node status, pod status, a lease renewal.
	patches := []struct {
		gvr             schema.GroupVersionResource
		namespace, name string
		patch           string
		subresource     string
	}{
		{gv("", "v1", "nodes"), "", "compat-nodes", `{"status":{"capacity":{"cpu":"2","memory":"4Gi","pods":"110"},"conditions":[{"type":"Ready","status":"True","reason":"KubeletReady","message":"ok","lastHeartbeatTime":"2026-11-24T20:00:00Z","lastTransitionTime":"2026-11-24T20:00:00Z"}],"addresses":[{"type":"InternalIP","address":"10.250.0.2"}],"nodeInfo":{"kubeletVersion":"v1.37.2","containerRuntimeVersion":"containerd://1.6.20"}}}`, "status"},
		{gv("", "v1", "pods"), ns, "compat-pods", `{"status":{"phase":"Running","hostIP":"10.250.0.2","podIP":"10.250.0.2","podIPs":[{"ip":"10.250.0.2"}],"startTime":"2026-11-24T20:00:00Z","conditions":[{"type":"Ready","status":"True","lastTransitionTime":"2026-11-24T20:00:00Z"}],"containerStatuses":[{"name":"c","ready":true,"started":true,"restartCount":0,"image":"registry.k8s.io/pause:3.10.2","imageID":"sha256:x","containerID":"containerd://x","state":{"running":{"startedAt":"2026-11-24T20:00:00Z"}}}]}}`, "status"},
		{gv("coordination.k8s.io", "v1", "leases"), ns, "compat-leases-coordination", `{"spec":{"renewTime":"2026-11-24T20:00:10.000000Z"}}`, ""},
		{gv("apps", "v1", "daemonsets"), ns, "compat-daemonsets-apps", `{"spec":{"template":{"spec":{"containers":[{"name":"c","image":"registry.k8s.io/pause:3.10.3"}]}}}}`, ""},
	}
	for _, p := range patches {
		var c dynamic.ResourceInterface = temp.Resource(p.gvr)
		if p.namespace != "" {
			c = temp.Resource(p.gvr).Namespace(p.namespace)
		}
		sub := []string{}
		if p.subresource != "" {
			sub = append(sub, p.subresource)
		}
		if _, err := c.Patch(ctx, p.name, types.StrategicMergePatchType, []byte(p.patch), metav1.PatchOptions{FieldManager: "kubelet"}, sub...); err != nil {
			t.Fatalf("patch %s %s: %v", p.gvr, p.name, err)
		}
	}
	refs = append(refs, ref{gv("", "v1", "namespaces"), "", ns})

	// Everything `bootstrap render` wrote, applied as `bootstrap start` does.
	mapper := restmapper.NewDeferredDiscoveryRESTMapper(memory.NewMemCacheClient(discovery.NewDiscoveryClientForConfigOrDie(cp.AdminConfig())))
	files, _ := filepath.Glob(filepath.Join(assetDir, "manifests", "*.yaml"))
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		dec := yamlutil.NewYAMLOrJSONDecoder(bytes.NewReader(data), 4096)
		for {
			u := &unstructured.Unstructured{}
			if err := dec.Decode(&u.Object); err != nil {
				if err == io.EOF {
					break
				}
				t.Fatalf("%s: %v", f, err)
			}
			if len(u.Object) == 0 {
				continue
			}
			gvk := u.GroupVersionKind()
			m, err := mapper.RESTMapping(gvk.GroupKind(), gvk.Version)
			if err != nil {
				t.Logf("%s: %s %s not served by the temporary apiserver: skipped", filepath.Base(f), gvk, u.GetName())
				continue
			}
			var c dynamic.ResourceInterface = temp.Resource(m.Resource)
			if m.Scope.Name() == meta.RESTScopeNameNamespace {
				if u.GetNamespace() == "" {
					u.SetNamespace("default")
				}
				c = temp.Resource(m.Resource).Namespace(u.GetNamespace())
			}
			body, _ := json.Marshal(u.Object)
			if _, err := c.Patch(ctx, u.GetName(), types.ApplyPatchType, body, metav1.PatchOptions{FieldManager: "bootstrap", Force: ptrTrue()}); err != nil {
				t.Fatalf("apply %s %s/%s from %s: %v", gvk, u.GetNamespace(), u.GetName(), filepath.Base(f), err)
			}
			refs = append(refs, ref{m.Resource, u.GetNamespace(), u.GetName()})
		}
	}

	get := func(d dynamic.Interface, r ref) (jsonObj, error) {
		var c dynamic.ResourceInterface = d.Resource(r.gvr)
		if r.namespace != "" {
			c = d.Resource(r.gvr).Namespace(r.namespace)
		}
		u, err := c.Get(ctx, r.name, metav1.GetOptions{})
		if err != nil {
			return nil, err
		}
		return u.Object, nil
	}
	served := map[int]jsonObj{}
	for i, r := range refs {
		o, err := get(temp, r)
		if err != nil {
			t.Fatalf("get %v from the temporary apiserver: %v", r, err)
		}
		served[i] = o
	}

	// Every Secret the temporary apiserver wrote is encrypted in etcd.
	checkSecretsEncrypted(t, ctx, assetDir, cp.EtcdEndpoint())

	// Stop the temporary apiserver (etcd keeps running) and start the real one.
	if err := cp.StopAPIServer(); err != nil {
		t.Fatal(err)
	}
	kas := framework.StartKubeAPIServer(t, node, framework.KubeAPIServerOptions{
		AssetDir: assetDir, EtcdServers: cp.EtcdEndpoint(), OnHost: true,
		ExtraArgs: map[string]string{
			"endpoint-reconciler-type": "none",
			// Secrets are encrypted at rest: kube-apiserver decrypts what the
			// temporary apiserver wrote with the same configuration.
			"encryption-provider-config": assets.Path(assetDir, assets.EncryptionConfig),
		},
	})
	kcfg, err := clientcmd.BuildConfigFromFlags("", kas.Kubeconfig)
	if err != nil {
		t.Fatal(err)
	}
	real := dynamic.NewForConfigOrDie(kcfg)
	var diffs []string
	for i, r := range refs {
		o, err := get(real, r)
		if err != nil {
			diffs = append(diffs, fmt.Sprintf("%s %s/%s: kube-apiserver cannot read it: %v", r.gvr, r.namespace, r.name, err))
			continue
		}
		a, b := prune(served[i]), prune(o)
		if d := cmp.Diff(a, b); d != "" {
			diffs = append(diffs, fmt.Sprintf("%s %s/%s (-temporary +kube-apiserver):\n%s", r.gvr, r.namespace, r.name, d))
		}
	}
	sort.Strings(diffs)
	for _, d := range diffs {
		t.Error(d)
	}
	t.Logf("compared %d objects, %d differ", len(refs), len(diffs))
}

// checkSecretsEncrypted reads every Secret's raw etcd value: each must be
// secretbox ciphertext of the asset dir's key, none a plain protobuf.
func checkSecretsEncrypted(t *testing.T, ctx context.Context, assetDir, endpoint string) {
	t.Helper()
	info := transport.TLSInfo{
		CertFile:      assets.Path(assetDir, assets.APIServerEtcdClientCert),
		KeyFile:       assets.Path(assetDir, assets.APIServerEtcdClientKey),
		TrustedCAFile: assets.Path(assetDir, assets.EtcdCACert),
	}
	tc, err := info.ClientConfig()
	if err != nil {
		t.Fatal(err)
	}
	ec, err := clientv3.New(clientv3.Config{Endpoints: []string{endpoint}, TLS: tc, DialTimeout: 5 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	defer ec.Close()
	gctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	resp, err := ec.Get(gctx, "/registry/secrets/", clientv3.WithPrefix())
	if err != nil {
		t.Fatal(err)
	}
	if len(resp.Kvs) < 3 {
		t.Fatalf("%d Secrets in etcd, want the test's and the rendered ones", len(resp.Kvs))
	}
	prefix := []byte("k8s:enc:secretbox:v1:" + assets.EncryptionKeyName + ":")
	for _, kv := range resp.Kvs {
		if !bytes.HasPrefix(kv.Value, prefix) {
			t.Errorf("%s is not encrypted at rest: value starts %q", kv.Key, kv.Value[:min(len(kv.Value), 24)])
		}
	}
	t.Logf("%d Secrets encrypted at rest", len(resp.Kvs))
}

func ptrTrue() *bool { b := true; return &b }

// prune removes allow-listed fields (dotted paths) from a copy of o.
func prune(o jsonObj) jsonObj {
	data, _ := json.Marshal(o)
	var c jsonObj
	_ = json.Unmarshal(data, &c)
	for _, p := range compatAllowList {
		unstructured.RemoveNestedField(c, strings.Split(p, ".")...)
	}
	return c
}
