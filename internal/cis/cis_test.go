package cis

import (
	"flag"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"sigs.k8s.io/yaml"

	"github.com/bootstrap-k8s/bootstrap/pkg/apis/bootstrap/v1alpha1"
	"github.com/bootstrap-k8s/bootstrap/pkg/assets"
)

var update = flag.Bool("update", false, "rewrite the table of docs/security.md from what render and docs/cloud-init.md produce")

const (
	securityDoc  = "../../docs/security.md"
	cloudInitDoc = "../../docs/cloud-init.md"
)

// renderDefaults renders the defaults (only the fields without a default
// set) into a temporary asset dir.
func renderDefaults(t *testing.T) string {
	t.Helper()
	tmp := t.TempDir()
	cfgPath := filepath.Join(tmp, "cluster.yaml")
	cfg := "apiVersion: config.bootstrap.dev/v1alpha1\nkind: BootstrapConfiguration\napiServer:\n  advertiseAddress: 10.0.0.10\nnode:\n  name: node-1\n"
	if err := os.WriteFile(cfgPath, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	c, err := v1alpha1.Load(cfgPath)
	if err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join(tmp, "assets")
	if _, err := assets.Render(c, dir, assets.Options{}); err != nil {
		t.Fatal(err)
	}
	return dir
}

// DocumentedKubelet reads the production kubelet of docs/cloud-init.md:
// its KubeletConfiguration and the flags of its ExecStart line.
func documentedKubelet(t *testing.T) (*KubeletConfig, map[string]string) {
	t.Helper()
	data, err := os.ReadFile(cloudInitDoc)
	if err != nil {
		t.Fatal(err)
	}
	_, block, ok := strings.Cut(string(data), "```yaml\n#cloud-config\n")
	if !ok {
		t.Fatalf("%s has no ```yaml #cloud-config block", cloudInitDoc)
	}
	block, _, _ = strings.Cut(block, "```")
	var ci struct {
		WriteFiles []struct {
			Path    string `json:"path"`
			Content string `json:"content"`
		} `json:"write_files"`
	}
	if err := yaml.Unmarshal([]byte(block), &ci); err != nil {
		t.Fatalf("%s: cloud-config: %v", cloudInitDoc, err)
	}
	var kc *KubeletConfig
	var flags map[string]string
	for _, f := range ci.WriteFiles {
		switch {
		case strings.HasSuffix(f.Path, "kubelet-config.yaml"):
			if kc, err = ParseKubeletConfig([]byte(f.Content)); err != nil {
				t.Fatal(err)
			}
		case strings.HasSuffix(f.Path, "kubelet.service"):
			unit := strings.ReplaceAll(f.Content, "\\\n", " ")
			for _, l := range strings.Split(unit, "\n") {
				if cmd, ok := strings.CutPrefix(strings.TrimSpace(l), "ExecStart="); ok {
					flags = ParseFlags(strings.Fields(cmd))
				}
			}
		}
	}
	if kc == nil || flags == nil {
		t.Fatalf("%s: no kubelet-config.yaml or no kubelet.service ExecStart in the cloud-config", cloudInitDoc)
	}
	return kc, flags
}

// TestSecurityDocTable: docs/security.md's CIS table is what the rendered
// defaults and the documented kubelet give, item by item.
func TestSecurityDocTable(t *testing.T) {
	in, err := LoadAssetDir(renderDefaults(t))
	if err != nil {
		t.Fatal(err)
	}
	in.Kubelet, in.KubeletFlags = documentedKubelet(t)
	outs := Evaluate(in)
	if len(outs) != len(Items()) {
		t.Fatalf("evaluated %d of %d items", len(outs), len(Items()))
	}
	got := Table(outs)
	doc, err := os.ReadFile(securityDoc)
	if err != nil {
		t.Fatal(err)
	}
	if *update {
		updated, err := Replace(string(doc), got)
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(securityDoc, []byte(updated), 0o644); err != nil {
			t.Fatal(err)
		}
		c := Counts(outs)
		t.Logf("wrote %d items: %d pass, %d fail, %d n/a", len(outs), c[Pass], c[Fail], c[NotApplicable])
		return
	}
	want, err := Extract(string(doc))
	if err != nil {
		t.Fatalf("%s: %v", securityDoc, err)
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("%s's CIS table is not what render and docs/cloud-init.md give (-doc +computed); if the change is intended run go test ./internal/cis -update and review the diff:\n%s", securityDoc, diff)
	}
}

// TestItemsAreComplete: every benchmark section the checklist covers is
// there, in order, without gaps or duplicates.
func TestItemsAreComplete(t *testing.T) {
	want := map[string]int{"1.1": 21, "1.2": 29, "1.3": 7, "1.4": 2, "2": 7, "4.2": 13}
	got := map[string]int{}
	seen := map[string]bool{}
	for _, it := range Items() {
		if seen[it.ID] {
			t.Errorf("item %s twice", it.ID)
		}
		seen[it.ID] = true
		sec := it.ID[:strings.LastIndex(it.ID, ".")]
		got[sec]++
		if want := sec + "." + itoa(got[sec]); it.ID != want {
			t.Errorf("item %s out of order, want %s", it.ID, want)
		}
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("items per section (-want +got):\n%s", diff)
	}
}

func itoa(i int) string { return strconv.Itoa(i) }

// TestChecksSeeChanges: the checks read the objects, not a fixed answer —
// a weakened kube-apiserver, etcd, file mode or kubelet flips them to fail.
func TestChecksSeeChanges(t *testing.T) {
	in, err := LoadAssetDir(renderDefaults(t))
	if err != nil {
		t.Fatal(err)
	}
	in.Kubelet, in.KubeletFlags = documentedKubelet(t)
	before := map[string]Result{}
	for _, o := range Evaluate(in) {
		before[o.ID] = o.Result
	}
	in.APIServer.Flags["authorization-mode"] = "AlwaysAllow"
	in.APIServer.Flags["profiling"] = "true"
	delete(in.APIServer.Flags, "kubelet-certificate-authority")
	in.APIServer.Flags["enable-admission-plugins"] = "AlwaysAdmit"
	in.Etcd.Flags["client-cert-auth"] = "false"
	in.Modes["tls/ca.key"] = 0o644
	in.Kubelet.Authorization.Mode = "AlwaysAllow"
	*in.Kubelet.ReadOnlyPort = 10255
	in.Kubelet.ServerTLSBootstrap = false
	in.SameCA = true
	after := map[string]Result{}
	for _, o := range Evaluate(in) {
		after[o.ID] = o.Result
	}
	for _, id := range []string{"1.2.5", "1.2.6", "1.2.7", "1.2.8", "1.2.10", "1.2.14", "1.2.15", "1.1.21", "2.2", "2.7", "4.2.2", "4.2.4", "4.2.9", "4.2.11"} {
		if before[id] != Pass || after[id] != Fail {
			t.Errorf("item %s: %s with the defaults, %s weakened; want pass then fail", id, before[id], after[id])
		}
	}
}
