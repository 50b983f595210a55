package recovery

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/serializer/protobuf"
	"k8s.io/client-go/kubernetes/scheme"

	"github.com/bootstrap-k8s/bootstrap/internal/testetcd"
	"github.com/bootstrap-k8s/bootstrap/internal/testtree"
	"github.com/bootstrap-k8s/bootstrap/pkg/assets"
	"github.com/bootstrap-k8s/bootstrap/pkg/etcdutil"
	"github.com/bootstrap-k8s/bootstrap/pkg/ui"
)

// storeAsKubeAPIServer writes obj under key the way kube-apiserver does
// (protobuf with the k8s\x00 prefix).
func storeAsKubeAPIServer(t *testing.T, assetDir, endpoint, key string, obj runtime.Object) {
	t.Helper()
	codec := scheme.Codecs.EncoderForVersion(protobuf.NewSerializer(scheme.Scheme, scheme.Scheme), corev1.SchemeGroupVersion)
	raw, err := runtime.Encode(codec, obj)
	if err != nil {
		t.Fatal(err)
	}
	cli, err := etcdutil.New(assetDir, endpoint)
	if err != nil {
		t.Fatal(err)
	}
	defer cli.Close()
	if _, err := cli.Put(context.Background(), key, string(raw)); err != nil {
		t.Fatal(err)
	}
}

func caOf(t *testing.T, assetDir string) []byte {
	t.Helper()
	b, err := os.ReadFile(assets.Path(assetDir, assets.CACert))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// The cluster CA of a saved state is read from the kube-apiserver Secret,
// else from the published kube-root-ca.crt; a state made with another CA is
// refused with both CAs named, and a state without either is refused too.
func TestCheckClusterIdentity(t *testing.T) {
	dir := testetcd.RenderAssets(t)
	other := testetcd.RenderAssets(t) // another cluster: a CA of its own
	secret := func(ca []byte) *corev1.Secret {
		return &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: assets.KubeAPIServer, Namespace: assets.KubeSystem},
			Data: map[string][]byte{"ca.crt": ca}}
	}
	rootCA := func(ca []byte) *corev1.ConfigMap {
		return &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: "kube-root-ca.crt", Namespace: assets.KubeSystem},
			Data: map[string]string{"ca.crt": string(ca)}}
	}
	tests := []struct {
		name    string
		objects map[string]runtime.Object
		want    string // "" = accepted
	}{
		{"own Secret", map[string]runtime.Object{apiServerSecretKey: secret(caOf(t, dir))}, ""},
		{"own root CA ConfigMap only", map[string]runtime.Object{rootCAConfigMapKey: rootCA(caOf(t, dir))}, ""},
		{"other cluster's Secret", map[string]runtime.Object{apiServerSecretKey: secret(caOf(t, other))}, "belongs to another cluster"},
		{"other cluster's root CA", map[string]runtime.Object{rootCAConfigMapKey: rootCA(caOf(t, other))}, "belongs to another cluster"},
		{"no evidence", map[string]runtime.Object{"/registry/configmaps/default/x": rootCA([]byte("unrelated"))}, "neither"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			m := testetcd.Start(t, dir, testetcd.Member{Name: "m"})
			for key, obj := range tc.objects {
				storeAsKubeAPIServer(t, dir, m.ClientURL, key, obj)
			}
			cli, err := etcdutil.New(dir, m.ClientURL)
			if err != nil {
				t.Fatal(err)
			}
			defer cli.Close()
			snap := filepath.Join(t.TempDir(), "snap.db")
			if _, err := Backup(context.Background(), BackupOptions{AssetDir: dir, Output: snap, Endpoints: []string{m.ClientURL}}); err != nil {
				t.Fatal(err)
			}
			// The same answer from the running etcd and from the snapshot file.
			for src, read := range map[string]stateReader{"etcd": etcdReader(context.Background(), cli), "snapshot": boltReader(snap)} {
				err := CheckClusterIdentity(dir, read)
				switch {
				case tc.want == "" && err != nil:
					t.Errorf("%s: refused: %v", src, err)
				case tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want)):
					t.Errorf("%s: error %v, want it to say %q", src, err, tc.want)
				}
			}
		})
	}
}

// A deleted key is absent in the snapshot, even though older revisions of it
// are still in the file.
func TestBoltReaderSeesDeletes(t *testing.T) {
	dir := testetcd.RenderAssets(t)
	m := testetcd.Start(t, dir, testetcd.Member{Name: "m"})
	cli, err := etcdutil.New(dir, m.ClientURL)
	if err != nil {
		t.Fatal(err)
	}
	defer cli.Close()
	ctx := context.Background()
	cli.Put(ctx, "/k/kept", "1")
	cli.Put(ctx, "/k/kept", "2")
	cli.Put(ctx, "/k/gone", "x")
	cli.Delete(ctx, "/k/gone")
	snap := filepath.Join(t.TempDir(), "snap.db")
	if _, err := Backup(ctx, BackupOptions{AssetDir: dir, Output: snap, Endpoints: []string{m.ClientURL}}); err != nil {
		t.Fatal(err)
	}
	read := boltReader(snap)
	if v, err := read("/k/kept"); err != nil || string(v) != "2" {
		t.Errorf("/k/kept = %q, %v; want the latest value 2", v, err)
	}
	if v, err := read("/k/gone"); err != nil || v != nil {
		t.Errorf("/k/gone = %q, %v; want absent", v, err)
	}
}

// recover refuses another cluster's snapshot in its preflight, before
// anything is restored, and says how to go ahead anyway.
func TestRecoverRefusesAnotherClustersSnapshot(t *testing.T) {
	dir := testetcd.RenderAssets(t)
	other := testetcd.RenderAssets(t)
	m := testetcd.Start(t, other, testetcd.Member{Name: "m"})
	storeAsKubeAPIServer(t, other, m.ClientURL, apiServerSecretKey, &corev1.Secret{
		ObjectMeta: metav1.ObjectMeta{Name: assets.KubeAPIServer, Namespace: assets.KubeSystem},
		Data:       map[string][]byte{"ca.crt": caOf(t, other)}})
	snap := filepath.Join(t.TempDir(), "other.db")
	if _, err := Backup(context.Background(), BackupOptions{AssetDir: other, Output: snap, Endpoints: []string{m.ClientURL}}); err != nil {
		t.Fatal(err)
	}
	before := testtree.Snapshot(t, dir)
	var out bytes.Buffer
	err := Recover(context.Background(), RecoverOptions{AssetDir: dir, EtcdBackup: snap}, ui.New(&out, &out, 0))
	// The check is part of start's preflight: reported there, with the
	// override named in the error.
	if err == nil || !strings.Contains(err.Error(), "ClusterIdentity") || !strings.Contains(out.String(), "ERROR ClusterIdentity: the saved state belongs to another cluster") {
		t.Fatalf("error %v, output:\n%s\nwant the ClusterIdentity preflight check to refuse another cluster's snapshot", err, out.String())
	}
	if changes := before.Changes(t, dir); len(changes) > 0 {
		t.Errorf("the asset dir changed: %v", changes)
	}
}
