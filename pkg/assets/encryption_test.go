package assets

import (
	"bytes"
	"context"
	"os"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apiserver/pkg/server/options/encryptionconfig"
)

// TestEncryptionConfig: render generates a per-cluster key 0600 that
// kube-apiserver's own loader accepts, reuses it on every re-render, ships
// it in the kube-apiserver Secret, and refuses a broken file instead of
// replacing it.
func TestEncryptionConfig(t *testing.T) {
	dir, _ := renderFresh(t)
	p := Path(dir, EncryptionConfig)
	fi, err := os.Stat(p)
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Perm() != 0o600 {
		t.Errorf("%s has mode %v, want 0600", EncryptionConfig, fi.Mode().Perm())
	}
	first, _ := os.ReadFile(p)
	loaded, err := encryptionconfig.LoadEncryptionConfig(context.Background(), p, false, "test")
	if err != nil {
		t.Fatalf("kube-apiserver's loader refuses it: %v", err)
	}
	if _, ok := loaded.Transformers[schema.GroupResource{Resource: "secrets"}]; !ok {
		t.Errorf("no transformer for secrets: %v", loaded.Transformers)
	}
	other, _ := renderFresh(t)
	if again, _ := os.ReadFile(Path(other, EncryptionConfig)); bytes.Equal(again, first) {
		t.Error("two clusters got the same encryption key")
	}

	if _, err := Render(testConfig(t), dir, testOptions()); err != nil {
		t.Fatal(err)
	}
	if again, _ := os.ReadFile(p); !bytes.Equal(again, first) {
		t.Error("re-render changed the encryption key")
	}
	var secret *corev1.Secret
	for _, o := range decodeAll(t, dir)["10-kube-apiserver.yaml"] {
		if s, ok := o.(*corev1.Secret); ok {
			secret = s
		}
	}
	if secret == nil || !bytes.Equal(secret.Data["encryption-config.yaml"], first) {
		t.Error("the kube-apiserver Secret does not carry the asset dir's encryption configuration")
	}

	if err := os.WriteFile(p, []byte("kind: Nonsense\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	_, err = Render(testConfig(t), dir, testOptions())
	if err == nil || !strings.Contains(err.Error(), "never delete it") {
		t.Errorf("a broken encryption configuration was accepted or replaced: %v", err)
	}
	if got, _ := os.ReadFile(p); string(got) != "kind: Nonsense\n" {
		t.Error("render overwrote a broken encryption configuration")
	}
}
