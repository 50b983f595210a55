package recovery

import (
	"bytes"
	"context"
	"crypto/sha256"
	"crypto/x509"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"time"

	bolt "go.etcd.io/bbolt"
	"go.etcd.io/etcd/api/v3/mvccpb"
	clientv3 "go.etcd.io/etcd/client/v3"
	"google.golang.org/protobuf/proto"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/client-go/kubernetes/scheme"
	certutil "k8s.io/client-go/util/cert"

	"github.com/bootstrap-k8s/bootstrap/pkg/assets"
)

// Keys of the objects that say which cluster CA a saved state was made with:
// the kube-apiserver Secret bootstrap renders (present from the first
// second), and the CA bundle the controller-manager publishes into every
// namespace (present in any Kubernetes cluster that ran for a moment).
const (
	apiServerSecretKey = "/registry/secrets/" + assets.KubeSystem + "/" + assets.KubeAPIServer
	rootCAConfigMapKey = "/registry/configmaps/" + assets.KubeSystem + "/kube-root-ca.crt"
)

// stateReader returns the current value of an etcd key, nil if absent.
type stateReader func(key string) ([]byte, error)

// CheckClusterIdentity refuses a saved state made with another cluster CA
// than the asset dir's: restored, its Secrets, ServiceAccount tokens and
// kubeconfigs would not match the certificates every component presents.
// It reads the state before anything is restored, so a refusal touches
// nothing.
func CheckClusterIdentity(assetDir string, read stateReader) error {
	want, err := os.ReadFile(assets.Path(assetDir, assets.CACert))
	if err != nil {
		return err
	}
	wantCA, err := firstCert(want)
	if err != nil {
		return fmt.Errorf("%s: %w", assets.CACert, err)
	}
	got, where, err := savedClusterCA(decryptingReader(assetDir, read))
	if err != nil {
		return err
	}
	if got == nil {
		return fmt.Errorf("the saved state has neither %s nor %s: it is not the etcd data of a Kubernetes cluster made from an asset dir (or its keys are encrypted), so it cannot be matched to %s", apiServerSecretKey, rootCAConfigMapKey, assetDir)
	}
	gotCA, err := firstCert(got)
	if err != nil {
		return fmt.Errorf("the cluster CA in the saved state (%s): %w", where, err)
	}
	if !bytes.Equal(gotCA.Raw, wantCA.Raw) {
		return fmt.Errorf("the saved state belongs to another cluster: its cluster CA (%s) is %s, the asset dir's %s is %s. "+
			"Restored with this asset dir, no component could authenticate to it. Use the asset dir that cluster was rendered with (its tls/ca.crt must match), or a backup of this cluster",
			where, describeCert(gotCA), assets.CACert, describeCert(wantCA))
	}
	return nil
}

// savedClusterCA finds the cluster CA certificate in the saved state.
func savedClusterCA(read stateReader) ([]byte, string, error) {
	raw, err := read(apiServerSecretKey)
	if err != nil {
		return nil, "", err
	}
	if s, ok := decode(raw).(*corev1.Secret); ok && len(s.Data["ca.crt"]) > 0 {
		return s.Data["ca.crt"], "Secret " + assets.KubeSystem + "/" + assets.KubeAPIServer, nil
	}
	if raw, err = read(rootCAConfigMapKey); err != nil {
		return nil, "", err
	}
	if cm, ok := decode(raw).(*corev1.ConfigMap); ok && cm.Data["ca.crt"] != "" {
		return []byte(cm.Data["ca.crt"]), "ConfigMap " + assets.KubeSystem + "/kube-root-ca.crt", nil
	}
	return nil, "", nil
}

// decode reads an object as kube-apiserver stores it (protobuf, or JSON);
// nil when absent or unreadable (e.g. encrypted at rest).
func decode(raw []byte) runtime.Object {
	if raw == nil {
		return nil
	}
	obj, _, err := scheme.Codecs.UniversalDeserializer().Decode(raw, nil, nil)
	if err != nil {
		return nil
	}
	return obj
}

func firstCert(pemBytes []byte) (*x509.Certificate, error) {
	certs, err := certutil.ParseCertsPEM(pemBytes)
	if err != nil {
		return nil, err
	}
	return certs[0], nil
}

func describeCert(c *x509.Certificate) string {
	sum := sha256.Sum256(c.Raw)
	return fmt.Sprintf("%q (sha256 %s…)", c.Subject.String(), hex.EncodeToString(sum[:])[:16])
}

// boltReader reads keys from a snapshot or a stopped member's db file
// without etcd: the "key" bucket maps revisions to mvccpb.KeyValue, in
// revision order; the last entry of a key is its current state, a tombstone
// (revision key ending in 't') if it was deleted.
func boltReader(path string) stateReader {
	return func(key string) ([]byte, error) {
		db, err := bolt.Open(path, 0o400, &bolt.Options{ReadOnly: true, Timeout: time.Second})
		if err != nil {
			return nil, fmt.Errorf("opening %s: %w", path, err)
		}
		defer db.Close()
		var val []byte
		err = db.View(func(tx *bolt.Tx) error {
			b := tx.Bucket([]byte("key"))
			if b == nil {
				return errors.New("no key bucket: not an etcd v3 database")
			}
			return b.ForEach(func(rev, v []byte) error {
				var kv mvccpb.KeyValue
				if err := proto.Unmarshal(v, &kv); err != nil || string(kv.Key) != key {
					return nil
				}
				if len(rev) > 17 && rev[17] == 't' {
					val = nil
				} else {
					val = append([]byte(nil), kv.Value...)
				}
				return nil
			})
		})
		return val, err
	}
}

// etcdReader reads keys from a running etcd.
func etcdReader(ctx context.Context, cli *clientv3.Client) stateReader {
	return func(key string) ([]byte, error) {
		ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
		defer cancel()
		resp, err := cli.Get(ctx, key)
		if err != nil {
			return nil, err
		}
		if len(resp.Kvs) == 0 {
			return nil, nil
		}
		return resp.Kvs[0].Value, nil
	}
}
