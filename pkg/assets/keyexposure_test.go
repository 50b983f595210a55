package assets

import (
	"bytes"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
)

// TestKeyMaterialIsPrivate: every file of the asset dir that holds key
// material (PEM private keys, kubeconfigs with keys or tokens, Secrets,
// the encryption key) is 0600, before and after a re-render.
func TestKeyMaterialIsPrivate(t *testing.T) {
	dir, _ := renderFresh(t)
	for round := range 2 {
		var private []string
		err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
			if err != nil || d.IsDir() {
				return err
			}
			data, err := os.ReadFile(p)
			if err != nil {
				return err
			}
			rel, _ := filepath.Rel(dir, p)
			secret := false
			for _, marker := range []string{"PRIVATE KEY", "client-key-data", "token:", "kind: Secret", "secretbox"} {
				secret = secret || bytes.Contains(data, []byte(marker))
			}
			info, _ := d.Info()
			if secret {
				private = append(private, filepath.ToSlash(rel))
				if info.Mode().Perm() != 0o600 {
					t.Errorf("round %d: %s holds key material with mode %v, want 0600", round, rel, info.Mode().Perm())
				}
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		for _, want := range []string{CAKey, EncryptionConfig, AdminKubeconfig, "manifests/02-bootstrap-token.yaml",
			"manifests/10-kube-apiserver.yaml", "manifests/11-kube-controller-manager.yaml", "manifests/12-kube-scheduler.yaml", "manifests/13-kube-proxy.yaml"} {
			if !slices.Contains(private, want) {
				t.Errorf("round %d: %s not recognised as key material", round, want)
			}
		}
		if _, err := Render(testConfig(t), dir, testOptions()); err != nil {
			t.Fatal(err)
		}
	}
}

// TestPodsSeeOnlyTheirKeys: each control-plane pod mounts only the private
// keys it needs (docs/assets.md, "Which pod sees which key").
func TestPodsSeeOnlyTheirKeys(t *testing.T) {
	dir, _ := renderFresh(t)
	objs := decodeAll(t, dir)
	secrets := map[string]*corev1.Secret{}
	pods := map[string]corev1.PodSpec{}
	for _, list := range objs {
		for _, o := range list {
			switch v := o.(type) {
			case *corev1.Secret:
				secrets[v.Namespace+"/"+v.Name] = v
			case *appsv1.DaemonSet:
				pods[v.Name] = v.Spec.Template.Spec
			case *appsv1.Deployment:
				pods[v.Name] = v.Spec.Template.Spec
			}
		}
	}
	// The keys on disk, by asset path, to recognise them inside Secrets.
	keyFiles := []string{CAKey, EtcdCAKey, FrontProxyCAKey, APIServerKey, APIServerKubeletKey, APIServerEtcdClientKey,
		FrontProxyClientKey, ServiceAccountKey, EtcdServerKey, EtcdPeerKey, EtcdHealthcheckKey, EncryptionConfig}
	onDisk := map[string][]byte{}
	for _, f := range keyFiles {
		data, err := os.ReadFile(Path(dir, f))
		if err != nil {
			t.Fatal(err)
		}
		onDisk[f] = data
	}
	visible := func(name string) (keys []string, entries []string) {
		spec, ok := pods[name]
		if !ok {
			t.Fatalf("no workload %s", name)
		}
		for _, v := range spec.Volumes {
			var names []string
			if v.Secret != nil {
				names = append(names, v.Secret.SecretName)
			}
			if v.Projected != nil {
				for _, src := range v.Projected.Sources {
					if src.Secret != nil {
						names = append(names, src.Secret.Name)
					}
				}
			}
			for _, n := range names {
				s := secrets["kube-system/"+n]
				if s == nil {
					t.Fatalf("%s mounts Secret %s, which render does not write", name, n)
				}
				for entry, val := range s.Data {
					entries = append(entries, entry)
					for f, data := range onDisk {
						if bytes.Equal(val, data) {
							keys = append(keys, f)
						}
					}
				}
			}
		}
		slices.Sort(keys)
		slices.Sort(entries)
		return keys, entries
	}
	for _, tc := range []struct {
		pod     string
		keys    []string // private keys (files of tls/) the pod can read
		entries []string // every entry of its Secrets
	}{
		{KubeAPIServer, []string{APIServerEtcdClientKey, APIServerKubeletKey, APIServerKey, EncryptionConfig, FrontProxyClientKey, ServiceAccountKey}, nil},
		// The CA key only because the controller-manager signs CSRs (kubelet
		// client and serving certificates); the service-account key signs
		// legacy token Secrets.
		{KubeControllerManager, []string{CAKey, ServiceAccountKey}, []string{"ca.crt", "ca.key", "front-proxy-ca.crt", "kubeconfig", "service-account.key"}},
		{KubeScheduler, nil, []string{"kubeconfig"}},
		{KubeProxy, nil, []string{"kubeconfig"}},
		{CoreDNS, nil, nil},
	} {
		keys, entries := visible(tc.pod)
		want := slices.Clone(tc.keys)
		slices.Sort(want)
		if !slices.Equal(keys, want) {
			t.Errorf("%s can read %v, want exactly %v", tc.pod, keys, want)
		}
		if tc.entries != nil && !slices.Equal(entries, tc.entries) {
			t.Errorf("%s's Secrets hold %v, want %v", tc.pod, entries, tc.entries)
		}
		for _, caKey := range []string{EtcdCAKey, FrontProxyCAKey} {
			if slices.Contains(keys, caKey) {
				t.Errorf("%s can read %s: no pod signs with it", tc.pod, caKey)
			}
		}
	}
}
