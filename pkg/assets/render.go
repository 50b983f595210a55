package assets

import (
	"bytes"
	"encoding/pem"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/bootstrap-k8s/bootstrap/pkg/apis/bootstrap/v1alpha1"
)

// Options tune Render. The zero value is what the CLI uses.
type Options struct {
	// Now is the clock for certificate validity and token expiry (tests pin it).
	Now func() time.Time
	// Logf receives one progress line per file ("[certs] Using existing CA tls/ca.crt").
	Logf func(format string, args ...any)
	// Renew lists leaf certificates to re-issue whatever their state, by
	// asset path without extension ("tls/apiserver", "tls/etcd/server") or
	// kubeconfig path ("auth/admin.kubeconfig"). With Renew set, every other
	// leaf is kept as it is (it must still chain to its CA), so that a
	// renewal changes exactly what was asked: `bootstrap certs renew`.
	Renew []string
}

// Result lists what Render did.
type Result struct {
	// Written are the asset paths whose content changed; Unchanged the rest.
	Written, Unchanged []string
	PKI                *PKI
}

type renderer struct {
	cfg    *v1alpha1.BootstrapConfiguration
	dir    string
	issuer issuer
	logf   func(string, ...any)
	// renew is Options.Renew; renewing says it was given.
	renew    map[string]bool
	renewing bool
	result   *Result
	// staged are the files this render writes, in order, kept in memory
	// until every check passed: a refused render writes nothing.
	staged []File
}

// Render writes the complete asset dir for a defaulted, validated cfg.
//
// It is idempotent: CAs, the service-account key and the bootstrap token are
// reused, leaves are re-issued only when they no longer match cfg, files
// render does not own are never touched, and an asset dir that contradicts
// itself (a key that is not its certificate's, a certificate of another CA)
// is refused before anything is written over.
func Render(cfg *v1alpha1.BootstrapConfiguration, dir string, opts Options) (*Result, error) {
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.Logf == nil {
		opts.Logf = func(string, ...any) {}
	}
	if cfg.Certificates.CAValidity == nil || cfg.Certificates.Validity == nil || cfg.APIServer.ExternalURL == "" {
		return nil, errors.New("assets.Render needs a defaulted configuration (v1alpha1.SetDefaults)")
	}
	r := &renderer{
		cfg: cfg,
		dir: dir,
		issuer: issuer{
			alg:        cfg.Certificates.KeyAlgorithm,
			caValidity: cfg.Certificates.CAValidity.Duration,
			validity:   cfg.Certificates.Validity.Duration,
			now:        opts.Now(),
		},
		logf:     opts.Logf,
		result:   &Result{},
		renewing: opts.Renew != nil,
		renew:    map[string]bool{},
	}
	for _, n := range opts.Renew {
		r.renew[n] = true
	}
	if err := r.checkDir(); err != nil {
		return nil, err
	}
	pki, err := r.ensurePKI()
	if err != nil {
		return nil, err
	}
	r.result.PKI = pki
	kcs, err := r.ensureKubeconfigs(pki)
	if err != nil {
		return nil, err
	}
	encryption, err := r.ensureEncryptionConfig()
	if err != nil {
		return nil, err
	}
	files, err := r.manifests(pki, kcs, encryption)
	if err != nil {
		return nil, err
	}
	for _, f := range files {
		if err := r.writeFile(f.Path, f.Data, f.Mode); err != nil {
			return nil, err
		}
	}
	r.logf("[manifests] Wrote %d manifests to %s", len(files), Path(dir, ManifestsDir))
	cfgYAML, err := v1alpha1.Marshal(cfg)
	if err != nil {
		return nil, err
	}
	if err := r.writeFile(ConfigFile, cfgYAML, 0o600); err != nil {
		return nil, err
	}
	// Every check passed: only now does anything reach the disk.
	if err := r.mkdirs(); err != nil {
		return nil, err
	}
	for _, f := range r.staged {
		if err := r.commitFile(f.Path, f.Data, f.Mode); err != nil {
			return nil, err
		}
	}
	return r.result, nil
}

func (r *renderer) checkDir() error {
	fi, err := os.Stat(r.dir)
	switch {
	case err == nil && !fi.IsDir():
		return fmt.Errorf("asset dir %s is a file, not a directory", r.dir)
	case err == nil && fi.Mode().Perm()&0o077 != 0:
		// The user made this directory; say so instead of changing it.
		r.logf("[render] Warning: %s is readable by others (mode %v); the asset dir holds private keys: chmod 0700 it", r.dir, fi.Mode().Perm())
	}
	return nil
}

func (r *renderer) mkdirs() error {
	for _, d := range []string{"", TLSDir, TLSDir + "/etcd", AuthDir, ManifestsDir, StaticDir} {
		p := Path(r.dir, d)
		_, statErr := os.Stat(p)
		if err := os.MkdirAll(p, 0o700); err != nil {
			return fmt.Errorf("creating %s: %w", p, err)
		}
		if d != "" || os.IsNotExist(statErr) {
			if err := os.Chmod(p, 0o700); err != nil {
				return err
			}
		}
	}
	return nil
}

// writeFile stages a file; Render commits the staged files once every
// check passed (a later write of the same path wins).
func (r *renderer) writeFile(rel string, data []byte, perm os.FileMode) error {
	for i := range r.staged {
		if r.staged[i].Path == rel {
			r.staged[i] = File{Path: rel, Data: data, Mode: perm}
			return nil
		}
	}
	r.staged = append(r.staged, File{Path: rel, Data: data, Mode: perm})
	return nil
}

// commitFile writes data atomically (temporary file + rename) and only when
// it differs, so that a re-render leaves unchanged files untouched.
func (r *renderer) commitFile(rel string, data []byte, perm os.FileMode) error {
	p := Path(r.dir, rel)
	if old, err := os.ReadFile(p); err == nil && bytes.Equal(old, data) {
		if err := os.Chmod(p, perm); err != nil {
			return err
		}
		r.result.Unchanged = append(r.result.Unchanged, rel)
		return nil
	}
	tmp, err := os.CreateTemp(filepath.Dir(p), "."+filepath.Base(p)+".tmp-*")
	if err != nil {
		return fmt.Errorf("writing %s: %w", p, err)
	}
	defer os.Remove(tmp.Name())
	if err := tmp.Chmod(perm); err != nil {
		tmp.Close()
		return err
	}
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		return fmt.Errorf("writing %s: %w", p, err)
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	if err := os.Rename(tmp.Name(), p); err != nil {
		return fmt.Errorf("writing %s: %w", p, err)
	}
	r.result.Written = append(r.result.Written, rel)
	return nil
}

// rel shortens an asset path for messages.
func (r *renderer) rel(p string) string {
	if filepath.IsAbs(p) {
		return p
	}
	return Path(r.dir, p)
}

func pemBlock(typ string, der []byte) []byte {
	return pem.EncodeToMemory(&pem.Block{Type: typ, Bytes: der})
}
