package tempcontrolplane

import (
	"errors"
	"io/fs"
	"os"

	cliflag "k8s.io/component-base/cli/flag"

	"github.com/bootstrap-k8s/bootstrap/pkg/apis/bootstrap/v1alpha1"
	"github.com/bootstrap-k8s/bootstrap/pkg/assets"
)

// tlsPolicy is the minimum TLS version and the cipher suites of the
// kube-apiserver the temporary apiserver hands over to: both serve the same.
func tlsPolicy() (uint16, []uint16, error) {
	minTLS, err := cliflag.TLSVersion(v1alpha1.MinTLSVersion)
	if err != nil {
		return 0, nil, err
	}
	suites, err := cliflag.TLSCipherSuites(v1alpha1.TLSCipherSuites)
	if err != nil {
		return 0, nil, err
	}
	return minTLS, suites, nil
}

func readAsset(assetDir, rel string) ([]byte, error) {
	data, err := os.ReadFile(assets.Path(assetDir, rel))
	if errors.Is(err, fs.ErrNotExist) {
		return nil, pkiError(assetDir, rel, errors.New("missing"))
	}
	if err != nil {
		return nil, pkiError(assetDir, rel, err)
	}
	return data, nil
}
