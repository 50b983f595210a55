package assets

import (
	"crypto/rand"
	"encoding/base64"
	"fmt"
	"slices"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/serializer"
	apiserverv1 "k8s.io/apiserver/pkg/apis/apiserver/v1"
)

// EncryptedResources are encrypted at rest by the rendered
// EncryptionConfiguration: Secrets hold every credential of the cluster
// (the control-plane Secrets hold its private keys), so without it every
// etcd snapshot is a full cluster credential.
var EncryptedResources = []string{"secrets"}

// EncryptionKeyName is the name of the first key render generates; rotation
// (docs/assets.md) adds keys beside it.
const EncryptionKeyName = "key1"

// ensureEncryptionConfig returns the asset dir's EncryptionConfiguration,
// generating it on first render: a secretbox provider with a fresh 32-byte
// key, then identity, so that values written before encryption was turned on
// stay readable. An existing file is never regenerated (its key decrypts
// every Secret in etcd, and its backups); it is only checked.
func (r *renderer) ensureEncryptionConfig() ([]byte, error) {
	data, err := r.readFile(EncryptionConfig)
	if err != nil {
		return nil, err
	}
	if data != nil {
		if err := checkEncryptionConfig(data); err != nil {
			return nil, fmt.Errorf("%s: %w; fix it, or restore it from a backup (never delete it: without its keys the Secrets in etcd cannot be read)", r.rel(EncryptionConfig), err)
		}
		r.logf("[encryption] Using existing %s", EncryptionConfig)
		return data, nil
	}
	if data, err = NewEncryptionConfig(); err != nil {
		return nil, err
	}
	r.logf("[encryption] Generating %s (Secrets encrypted at rest, secretbox)", EncryptionConfig)
	return data, r.writeFile(EncryptionConfig, data, 0o600)
}

// NewEncryptionConfig renders an EncryptionConfiguration with a new random key.
func NewEncryptionConfig() ([]byte, error) {
	key := make([]byte, 32)
	if _, err := rand.Read(key); err != nil {
		return nil, err
	}
	cfg := &apiserverv1.EncryptionConfiguration{
		TypeMeta: metav1.TypeMeta{APIVersion: apiserverv1.SchemeGroupVersion.String(), Kind: "EncryptionConfiguration"},
		Resources: []apiserverv1.ResourceConfiguration{{
			Resources: EncryptedResources,
			Providers: []apiserverv1.ProviderConfiguration{
				{Secretbox: &apiserverv1.SecretboxConfiguration{Keys: []apiserverv1.Key{{Name: EncryptionKeyName, Secret: base64.StdEncoding.EncodeToString(key)}}}},
				{Identity: &apiserverv1.IdentityConfiguration{}},
			},
		}},
	}
	return EncodeYAML(cfg)
}

// checkEncryptionConfig strictly decodes an EncryptionConfiguration and
// requires that it covers Secrets.
func checkEncryptionConfig(data []byte) error {
	s := runtime.NewScheme()
	if err := apiserverv1.AddToScheme(s); err != nil {
		return err
	}
	obj, _, err := serializer.NewCodecFactory(s, serializer.EnableStrict).UniversalDeserializer().Decode(data, nil, nil)
	if err != nil {
		return fmt.Errorf("not an EncryptionConfiguration (apiserver.config.k8s.io/v1): %w", err)
	}
	cfg, ok := obj.(*apiserverv1.EncryptionConfiguration)
	if !ok {
		return fmt.Errorf("is a %T, not an EncryptionConfiguration", obj)
	}
	for _, rc := range cfg.Resources {
		if slices.Contains(rc.Resources, "secrets") && len(rc.Providers) > 0 {
			return nil
		}
	}
	return fmt.Errorf("configures no provider for secrets")
}
