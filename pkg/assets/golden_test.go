package assets

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"
)

// The fixture holds a rendered tls/ and auth/ (fixed keys), so that the
// manifests, which embed certificates, render byte for byte the same.
const fixtureDir = "testdata/fixture"

func TestRenderGolden(t *testing.T) {
	if _, err := os.Stat(fixtureDir); os.IsNotExist(err) && *update {
		if _, err := Render(testConfig(t), fixtureDir, testOptions()); err != nil {
			t.Fatal(err)
		}
		for _, p := range []string{ManifestsDir, StaticDir, ConfigFile} {
			os.RemoveAll(filepath.Join(fixtureDir, p))
		}
	}
	dir := t.TempDir()
	copyTree(t, fixtureDir, dir)
	res, err := Render(testConfig(t), dir, testOptions())
	if err != nil {
		t.Fatal(err)
	}
	for _, w := range res.Written {
		if filepath.Dir(w) == TLSDir || filepath.Dir(w) == AuthDir {
			t.Errorf("render re-issued %s from the fixture; run go test ./pkg/assets -update after deleting %s if the PKI spec changed", w, fixtureDir)
		}
	}
	var rendered []string
	for _, sub := range []string{ManifestsDir, StaticDir} {
		files, _ := filepath.Glob(filepath.Join(dir, sub, "*.yaml"))
		for _, f := range files {
			rel, _ := filepath.Rel(dir, f)
			rendered = append(rendered, rel)
		}
	}
	rendered = append(rendered, ConfigFile)
	for _, rel := range rendered {
		got, err := os.ReadFile(filepath.Join(dir, rel))
		if err != nil {
			t.Fatal(err)
		}
		golden := filepath.Join("testdata/golden", rel)
		if *update {
			if err := os.MkdirAll(filepath.Dir(golden), 0o755); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(golden, got, 0o644); err != nil {
				t.Fatal(err)
			}
			continue
		}
		want, err := os.ReadFile(golden)
		if err != nil {
			t.Fatalf("%v (run go test ./pkg/assets -update to create it)", err)
		}
		if !bytes.Equal(got, want) {
			t.Errorf("%s differs from %s; if the change is intended run go test ./pkg/assets -update and review the diff", rel, golden)
		}
	}
	goldens, _ := filepath.Glob("testdata/golden/*/*.yaml")
	if !*update && len(goldens) != len(rendered)-1 {
		t.Errorf("render wrote %d manifests, testdata/golden has %d: a file is missing or stale", len(rendered)-1, len(goldens))
	}
}

func TestRerenderIsNoOp(t *testing.T) {
	dir, _ := renderFresh(t)
	res, err := Render(testConfig(t), dir, testOptions())
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Written) != 0 {
		t.Errorf("second render with the same config rewrote %v", res.Written)
	}
}

// TestFlannelManifests: networking.cni flannel adds a strictly decodable,
// fully specified flannel DaemonSet on the pod CIDR; bridge adds none.
func TestFlannelManifests(t *testing.T) {
	cfg := testConfig(t)
	cfg.Networking.CNI = "flannel"
	cfg.Images.Flannel = "docker.io/flannel/flannel:v0.28.10"
	dir := filepath.Join(t.TempDir(), "assets")
	if _, err := Render(cfg, dir, testOptions()); err != nil {
		t.Fatal(err)
	}
	objs := decodeAll(t, dir)["30-flannel.yaml"]
	if len(objs) != 6 {
		t.Fatalf("30-flannel.yaml has %d objects, want 6", len(objs))
	}
	data, _ := os.ReadFile(Path(dir, "manifests/30-flannel.yaml"))
	if !bytes.Contains(data, []byte(`"Network":"10.244.0.0/16"`)) {
		t.Errorf("flannel net-conf does not carry the pod CIDR:\n%s", data)
	}
	plain, _ := renderFresh(t)
	if _, err := os.Stat(Path(plain, "manifests/30-flannel.yaml")); err == nil {
		t.Error("the default bridge CNI rendered flannel manifests")
	}
}
