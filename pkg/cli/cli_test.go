package cli

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/bootstrap-k8s/bootstrap/pkg/apis/bootstrap/v1alpha1"
)

// run executes the command tree in-process, as main does.
func run(args ...string) (stdout, stderr string, code int) {
	var out, errOut bytes.Buffer
	cmd := NewRootCommand(&out, &errOut)
	cmd.SetArgs(args)
	err := cmd.Execute()
	if err != nil {
		errOut.WriteString(err.Error())
	}
	return out.String(), errOut.String(), ExitCode(err)
}

// TestValidateRejectsEveryInvalidFixture: exit 3 and the field path named
// by the fixture's "# want:" line.
func TestValidateRejectsEveryInvalidFixture(t *testing.T) {
	files, _ := filepath.Glob("../apis/bootstrap/v1alpha1/testdata/invalid/*.yaml")
	if len(files) < 20 {
		t.Fatalf("only %d invalid fixtures", len(files))
	}
	for _, f := range files {
		t.Run(filepath.Base(f), func(t *testing.T) {
			data, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			first, _, _ := strings.Cut(string(data), "\n")
			want, ok := strings.CutPrefix(first, "# want: ")
			if !ok {
				t.Fatalf("fixture has no '# want:' line")
			}
			_, stderr, code := run("config", "validate", "--config", f)
			if code != 3 {
				t.Errorf("exit %d, want 3; stderr:\n%s", code, stderr)
			}
			for _, path := range strings.Split(want, ",") {
				path = strings.TrimSpace(path)
				if path != "<root>" && !strings.Contains(stderr, path+":") {
					t.Errorf("stderr does not name %s:\n%s", path, stderr)
				}
			}
		})
	}
}

func TestValidateAcceptsValidFixtures(t *testing.T) {
	files, _ := filepath.Glob("../apis/bootstrap/v1alpha1/testdata/valid/*.yaml")
	for _, f := range files {
		if _, stderr, code := run("config", "validate", "--config", f); code != 0 {
			t.Errorf("%s: exit %d: %s", f, code, stderr)
		}
	}
}

func TestRenderWithOnlyAssetDirAndAdvertiseAddress(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "assets")
	_, stderr, code := run("render", "--asset-dir", dir, "--advertise-address", "10.250.0.2", "--node-name", "node-1")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	for _, f := range []string{"tls/ca.crt", "tls/ca.key", "tls/etcd/ca.key", "tls/front-proxy-ca.key", "tls/service-account.pub",
		"auth/admin.kubeconfig", "auth/super-admin.kubeconfig", "auth/kubelet.kubeconfig", "auth/controller-manager.kubeconfig",
		"auth/scheduler.kubeconfig", "auth/bootstrap-kubelet.kubeconfig", "manifests/10-kube-apiserver.yaml",
		"manifests/11-kube-controller-manager.yaml", "manifests/12-kube-scheduler.yaml", "manifests/13-kube-proxy.yaml",
		"manifests/20-coredns.yaml", "static/etcd.yaml", "bootstrap-config.yaml"} {
		if _, err := os.Stat(filepath.Join(dir, f)); err != nil {
			t.Errorf("missing %s", f)
		}
	}
	if !strings.Contains(stderr, "[certs] Generating tls/ca.crt") {
		t.Errorf("no progress line for the CA:\n%s", stderr)
	}
	_, stderr, code = run("render", "--asset-dir", dir, "--advertise-address", "10.250.0.2", "--node-name", "node-1")
	if code != 0 || !strings.Contains(stderr, "[certs] Using existing CA tls/ca.crt") {
		t.Errorf("second render: exit %d, CA not reused:\n%s", code, stderr)
	}
}

// The upgrade path of docs/upgrades.md: re-render the same asset dir with a
// new version only; everything else comes from its bootstrap-config.yaml.
func TestReRenderForTheNextVersion(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "assets")
	if _, stderr, code := run("render", "--asset-dir", dir, "--advertise-address", "10.250.0.2", "--node-name", "node-1",
		"--kubernetes-version", v1alpha1.PreviousKubernetesVersion, "--service-cidr", "10.97.0.0/16"); code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	ca, _ := os.ReadFile(filepath.Join(dir, "tls/ca.crt"))
	_, stderr, code := run("render", "--asset-dir", dir, "--kubernetes-version", v1alpha1.DefaultKubernetesVersion)
	if code != 0 || !strings.Contains(stderr, "Using the asset dir's configuration") {
		t.Fatalf("re-render: exit %d:\n%s", code, stderr)
	}
	if again, _ := os.ReadFile(filepath.Join(dir, "tls/ca.crt")); string(again) != string(ca) {
		t.Error("the re-render replaced the CA")
	}
	ds, _ := os.ReadFile(filepath.Join(dir, "manifests/10-kube-apiserver.yaml"))
	for _, want := range []string{"image: registry.k8s.io/kube-apiserver:" + v1alpha1.DefaultKubernetesVersion, "--service-cluster-ip-range=10.97.0.0/16"} {
		if !strings.Contains(string(ds), want) {
			t.Errorf("re-rendered kube-apiserver DaemonSet lacks %q", want)
		}
	}
}

func TestPrintDefaultsIsValidWithAnAddress(t *testing.T) {
	stdout, _, code := run("config", "print-defaults")
	if code != 0 || !strings.Contains(stdout, "kind: BootstrapConfiguration") {
		t.Fatalf("exit %d:\n%s", code, stdout)
	}
	f := filepath.Join(t.TempDir(), "c.yaml")
	os.WriteFile(f, []byte(stdout), 0o600)
	if _, stderr, code := run("config", "validate", "--config", f, "--advertise-address", "10.0.0.5"); code != 0 {
		t.Errorf("defaults plus an address do not validate: %s", stderr)
	}
	if _, _, code := run("render", "--asset-dir", t.TempDir(), "--advertise-address", "10.0.0.5", "--pod-cidr", "nonsense"); code != 3 {
		t.Errorf("invalid --pod-cidr: exit %d, want 3", code)
	}
}
