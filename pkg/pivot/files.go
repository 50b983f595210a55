package pivot

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
)

// writeAtomic writes data to path through a temporary file in the same
// directory (the kubelet never reads half a manifest), with mode and owner.
// An identical file is left as it is (its mode and owner set).
func writeAtomic(path string, data []byte, mode os.FileMode, uid, gid int) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return err
	}
	if old, err := os.ReadFile(path); err == nil && bytes.Equal(old, data) {
		if err := os.Chmod(path, mode); err != nil {
			return err
		}
		return os.Lchown(path, uid, gid)
	}
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".tmp-*")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name())
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Chmod(mode); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Chown(uid, gid); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), path)
}

// writeFiles writes the directories and files a static pod mounts. The
// directories are made before the files, with their mode, so that no key
// is ever readable by others, even for a moment.
func (p *staticPlan) writeFiles() error {
	for _, d := range p.Dirs {
		if err := os.MkdirAll(d.Path, d.Mode); err != nil {
			return err
		}
		if err := os.Chmod(d.Path, d.Mode); err != nil {
			return err
		}
		if err := os.Lchown(d.Path, d.UID, d.GID); err != nil {
			return err
		}
	}
	for _, f := range p.Files {
		if err := writeAtomic(f.Path, f.Data, f.Mode, f.UID, f.GID); err != nil {
			return fmt.Errorf("writing %s: %w", f.Path, err)
		}
	}
	return nil
}

// removeComponentDirs removes what the pivot to static pods wrote for a
// component under root (pki/<component>, config/<component>), and nothing
// else.
func removeComponentDirs(root, component string) error {
	var errs []error
	for _, sub := range []string{"pki", "config"} {
		d := filepath.Join(root, sub, component)
		if err := os.RemoveAll(d); err != nil {
			errs = append(errs, err)
		}
		removeIfEmpty(filepath.Join(root, sub))
	}
	return errors.Join(errs...)
}

// removeIfEmpty removes a directory pivot made once nothing is left in it
// (removing a non-empty one fails: etcd's certificates stay).
func removeIfEmpty(d string) { _ = os.Remove(d) }

func fileExists(p string) bool {
	_, err := os.Stat(p)
	return err == nil
}

// removeFile removes path; a missing file is not an error.
func removeFile(path string) (bool, error) {
	err := os.Remove(path)
	if errors.Is(err, os.ErrNotExist) {
		return false, nil
	}
	return err == nil, err
}
