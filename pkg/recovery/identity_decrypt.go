package recovery

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"strings"

	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apiserver/pkg/server/options/encryptionconfig"
	"k8s.io/apiserver/pkg/storage/value"

	"github.com/bootstrap-k8s/bootstrap/pkg/assets"
)

// encryptedPrefix starts every value kube-apiserver (or the temporary
// apiserver) wrote through an encryption provider.
var encryptedPrefix = []byte("k8s:enc:")

// decryptingReader reads Secrets of the saved state through the asset dir's
// encryption configuration, as kube-apiserver would. A Secret this key
// cannot decrypt was written by a cluster with another key: the saved state
// is another cluster's.
func decryptingReader(assetDir string, read stateReader) stateReader {
	return func(key string) ([]byte, error) {
		raw, err := read(key)
		if err != nil || !bytes.HasPrefix(raw, encryptedPrefix) || !strings.HasPrefix(key, "/registry/secrets/") {
			return raw, err
		}
		p := assets.Path(assetDir, assets.EncryptionConfig)
		if _, err := os.Stat(p); errors.Is(err, os.ErrNotExist) {
			return nil, fmt.Errorf("the saved state's Secrets are encrypted at rest, and the asset dir has no %s to read them: use the asset dir that cluster was rendered with", assets.EncryptionConfig)
		}
		ctx := context.Background()
		ec, err := encryptionconfig.LoadEncryptionConfig(ctx, p, false, "bootstrap-recover")
		if err != nil {
			return nil, fmt.Errorf("%s: %w", p, err)
		}
		t, ok := ec.Transformers[schema.GroupResource{Resource: "secrets"}]
		if !ok {
			return nil, fmt.Errorf("%s does not configure secrets", p)
		}
		out, _, err := t.TransformFromStorage(ctx, raw, value.DefaultContext(key))
		if err != nil {
			return nil, fmt.Errorf("the saved state belongs to another cluster: %s is encrypted with a key that %s does not hold (%v). Use the asset dir that cluster was rendered with, or a backup of this cluster", key, assets.EncryptionConfig, err)
		}
		return out, nil
	}
}
