package upgrade

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/bootstrap-k8s/bootstrap/pkg/apis/bootstrap/v1alpha1"
	"github.com/bootstrap-k8s/bootstrap/pkg/assets"
)

// renderedDirs are the parts of an asset dir render writes and upgrade
// saves before re-rendering, to put them back on a roll-back.
var renderedDirs = []string{assets.ManifestsDir, assets.StaticDir}

// renderCopy renders cfg into a copy of the asset dir (certificates and keys
// reused) and returns the copy's path: plan and dry-run see the target
// manifests without touching the asset dir. The caller removes it.
func renderCopy(assetDir string, cfg *v1alpha1.BootstrapConfiguration) (string, error) {
	tmp, err := os.MkdirTemp("", "bootstrap-upgrade-")
	if err != nil {
		return "", err
	}
	err = filepath.WalkDir(assetDir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(assetDir, p)
		if d.IsDir() && rel == "backups" {
			return filepath.SkipDir
		}
		target := filepath.Join(tmp, rel)
		if d.IsDir() {
			return os.MkdirAll(target, 0o700)
		}
		if !d.Type().IsRegular() {
			return nil
		}
		data, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		info, err := d.Info()
		if err != nil {
			return err
		}
		return os.WriteFile(target, data, info.Mode().Perm())
	})
	if err == nil {
		_, err = assets.Render(cfg, tmp, assets.Options{})
	}
	if err != nil {
		os.RemoveAll(tmp)
		return "", err
	}
	return tmp, nil
}

// savedFiles is the content of the rendered parts of an asset dir, to put
// back when an upgrade is rolled back.
type savedFiles map[string]savedFile

type savedFile struct {
	data []byte
	mode fs.FileMode
}

func saveRendered(assetDir string) (savedFiles, error) {
	saved := savedFiles{}
	paths := []string{assets.Path(assetDir, assets.ConfigFile)}
	for _, d := range renderedDirs {
		files, err := filepath.Glob(filepath.Join(assetDir, d, "*"))
		if err != nil {
			return nil, err
		}
		paths = append(paths, files...)
	}
	for _, p := range paths {
		info, err := os.Stat(p)
		if errors.Is(err, fs.ErrNotExist) {
			continue
		}
		if err != nil {
			return nil, err
		}
		data, err := os.ReadFile(p)
		if err != nil {
			return nil, err
		}
		saved[p] = savedFile{data, info.Mode().Perm()}
	}
	return saved, nil
}

// restore writes every saved file back with its mode.
func (s savedFiles) restore() error {
	var errs []error
	for p, f := range s {
		errs = append(errs, os.WriteFile(p, f.data, f.mode), os.Chmod(p, f.mode))
	}
	return errors.Join(errs...)
}
