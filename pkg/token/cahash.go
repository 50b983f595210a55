package token

import (
	"crypto/sha256"
	"crypto/x509"
	"encoding/hex"
	"fmt"
	"strings"

	"github.com/bootstrap-k8s/bootstrap/pkg/apis/bootstrap/v1alpha1"
	"github.com/bootstrap-k8s/bootstrap/pkg/failure"
)

// CAHashPrefix starts every CA pin.
const CAHashPrefix = "sha256:"

// CAHash is the pin of a CA certificate as kubeadm writes it: sha256: and the
// hex SHA-256 of the certificate's SubjectPublicKeyInfo (so the pin survives
// a re-issued CA certificate with the same key).
func CAHash(ca *x509.Certificate) string {
	sum := sha256.Sum256(ca.RawSubjectPublicKeyInfo)
	return CAHashPrefix + hex.EncodeToString(sum[:])
}

// ParseCAHash checks the form of a pin and returns it lower-cased.
func ParseCAHash(s string) (string, error) {
	v := strings.ToLower(strings.TrimSpace(s))
	hexPart, ok := strings.CutPrefix(v, CAHashPrefix)
	if b, err := hex.DecodeString(hexPart); !ok || err != nil || len(b) != sha256.Size {
		return "", failure.InvalidConfig(fmt.Errorf("--discovery-token-ca-cert-hash %q is not a CA pin: want sha256: and 64 hex digits, as `bootstrap token create` prints", s))
	}
	return v, nil
}

// JoinCommand is the command a new node runs to join with token.
func JoinCommand(server, token, caHash string) string {
	return fmt.Sprintf("bootstrap join --server %s --token %s --discovery-token-ca-cert-hash %s", server, token, caHash)
}

// CheckJoinable refuses to hand out join tokens for a cluster whose pod
// network cannot span nodes: the bridge CNI is a conflist on one node, so
// pods of a joined node could reach no pod of another.
func CheckJoinable(cfg *v1alpha1.BootstrapConfiguration) error {
	if cfg.Networking.CNI == v1alpha1.CNIBridge {
		return failure.InvalidConfig(fmt.Errorf("networking.cni is %q, a pod network of one node: pods on a joined node could not reach pods on the others. Render with networking.cni: %s (or %s and your own CNI), apply it, then create the token",
			v1alpha1.CNIBridge, v1alpha1.CNIFlannel, v1alpha1.CNINone))
	}
	return nil
}
