package tempcontrolplane

import (
	"errors"
	"io/fs"
	"os"

	"github.com/bootstrap-k8s/bootstrap/pkg/assets"
)

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
