package v1alpha1

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/validation/field"
)

// fixedNode keeps the fixtures independent of the test machine's host name,
// which is node.name's default and may not be a valid one.
func fixedNode(c *BootstrapConfiguration) {
	if c.Node.Name == "" {
		c.Node.Name = "test-node"
	}
}

func TestValidFixtures(t *testing.T) {
	files, _ := filepath.Glob("testdata/valid/*")
	if len(files) < 5 {
		t.Fatalf("found %d valid fixtures, want at least 5", len(files))
	}
	for _, f := range files {
		t.Run(filepath.Base(f), func(t *testing.T) {
			c, err := Load(f, fixedNode)
			if err != nil {
				t.Fatalf("Load: %v", err)
			}
			// What render writes to bootstrap-config.yaml must load back unchanged.
			out, err := Marshal(c)
			if err != nil {
				t.Fatal(err)
			}
			again, err := LoadBytes(out, "marshalled")
			if err != nil {
				t.Fatalf("reloading the marshalled config: %v\n%s", err, out)
			}
			if !reflect.DeepEqual(c, again) {
				t.Errorf("round trip changed the config:\n%s", out)
			}
		})
	}
}

// wantPaths reads the "# want: a, b" first line of an invalid fixture (the
// path "<root>" stands for an error about the file as a whole) and the
// "# msg: text" lines after it: texts the error message must contain, so
// that a fixture fails for the reason it was written for.
func wantPaths(t *testing.T, data []byte) (paths, msgs []string) {
	lines := strings.Split(string(data), "\n")
	list, ok := strings.CutPrefix(lines[0], "# want: ")
	if !ok {
		t.Fatalf("first line must be '# want: <field path>[, ...]', is %q", lines[0])
	}
	for _, l := range lines[1:] {
		m, ok := strings.CutPrefix(l, "# msg: ")
		if !ok {
			break
		}
		msgs = append(msgs, m)
	}
	for _, p := range strings.Split(list, ",") {
		p = strings.TrimSpace(p)
		if p == "<root>" {
			p = ""
		}
		paths = append(paths, p)
	}
	slices.Sort(paths)
	return paths, msgs
}

func TestInvalidFixtures(t *testing.T) {
	files, _ := filepath.Glob("testdata/invalid/*.yaml")
	if len(files) < 25 {
		t.Fatalf("found %d invalid fixtures, want at least 25", len(files))
	}
	for _, f := range files {
		t.Run(strings.TrimSuffix(filepath.Base(f), ".yaml"), func(t *testing.T) {
			data, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			want, wantMsgs := wantPaths(t, data)
			c, err := LoadBytes(data, f, fixedNode)
			if c != nil || err == nil {
				t.Fatalf("LoadBytes accepted it (err=%v)", err)
			}
			var ie *InvalidError
			if !errors.As(err, &ie) || !IsInvalid(fmt.Errorf("wrapped: %w", err)) {
				t.Fatalf("error is %T, want *InvalidError: %v", err, err)
			}
			var got []string
			for _, e := range ie.Errs {
				got = append(got, e.Field)
				if e.Field == "" && e.Detail == "" {
					t.Errorf("an error about the whole file must explain itself: %#v", e)
				}
			}
			slices.Sort(got)
			got = slices.Compact(got)
			if !slices.Equal(got, want) {
				t.Errorf("error paths %q, want %q; errors:\n%v", got, want, err)
			}
			// Every line of the message names the file, for the CLI to print as is.
			msg := err.Error()
			for _, line := range strings.Split(msg, "\n") {
				if !strings.HasPrefix(line, f+": ") && !strings.HasPrefix(line, "hint: ") {
					t.Errorf("line without source: %q", line)
				}
			}
			for _, m := range wantMsgs {
				if !strings.Contains(msg, m) {
					t.Errorf("message lacks %q:\n%s", m, msg)
				}
			}
			if !strings.Contains(msg, "bootstrap config print-defaults") {
				t.Errorf("message lacks the print-defaults hint:\n%s", msg)
			}
		})
	}
}

func TestErrorMessages(t *testing.T) {
	for _, tc := range []struct{ fixture, want string }{
		{"unknown-field-nested", `apiServer.advertiseAdress: Forbidden: line 6: unknown field (did you mean "advertiseAddress"?)`},
		{"unknown-field-case", `networking.podCidr: Forbidden: line 8: unknown field (did you mean "podCIDR"?)`},
		{"duplicate-field", `networking.podCIDR: Duplicate value: set twice, on lines 8 and 10`},
		{"wrong-type", `apiServer.bindPort: Invalid value: "6443": line 7: must be an integer, found string`},
		{"version-not-a-string", `kubernetesVersion: Invalid value: "1.37": line 7: must be a string (quote the value), found number`},
		{"version-unsupported-minor", `Kubernetes 1.35 is not supported: this release of bootstrap supports v1.36.x and v1.37.x`},
		{"wrong-kind", `kind: Unsupported value: "ClusterConfiguration": supported values: "BootstrapConfiguration"`},
		{"empty", `testdata/invalid/empty.yaml: the configuration is empty`},
		{"cidr-overlap", `overlaps networking.podCIDR 10.96.0.0/16`},
		{"cidr-host-bits", `did you mean 10.96.0.0/12?`},
		{"extraargs-managed", `apiServer.extraArgs[secure-port]: Forbidden: --secure-port is set by bootstrap: set apiServer.bindPort instead`},
		{"etcd-duplicate-ports", `etcd.local.bootClientPort: Duplicate value: 6443: already used by apiServer.bindPort`},
	} {
		t.Run(tc.fixture, func(t *testing.T) {
			f := "testdata/invalid/" + tc.fixture + ".yaml"
			_, err := Load(f, fixedNode)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error does not contain %q:\n%v", tc.want, err)
			}
		})
	}
}

func TestLoadMissingFileIsNotInvalid(t *testing.T) {
	// A missing file is exit code 1, not 3: nothing was validated.
	_, err := Load(filepath.Join(t.TempDir(), "nope.yaml"))
	if err == nil || IsInvalid(err) || !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("got %v", err)
	}
}

func TestDefaultRoundTrip(t *testing.T) {
	d := Default()
	out, err := Marshal(d)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(string(out), "apiVersion: "+APIVersion+"\nkind: "+Kind+"\n") {
		t.Errorf("apiVersion and kind must come first:\n%s", out)
	}
	// The required field without a default is shown, not left out.
	if !strings.Contains(string(out), "apiServer:\n  advertiseAddress: \"\" # required") {
		t.Errorf("print-defaults output hides apiServer.advertiseAddress:\n%s", out)
	}
	back, err := Decode(out)
	if err != nil {
		t.Fatalf("Decode(Marshal(Default())): %v\n%s", err, out)
	}
	if !reflect.DeepEqual(d, back) {
		t.Errorf("round trip changed the defaults:\n%s", out)
	}
	// Default has everything but the advertise address, which has no default.
	d.Node.Name = "test-node" // the host name may not be a valid node name
	errs := Validate(d)
	if len(errs) != 1 || errs[0].Field != "apiServer.advertiseAddress" || errs[0].Type != field.ErrorTypeRequired {
		t.Errorf("Validate(Default()) = %v, want only apiServer.advertiseAddress required", errs)
	}
}

func TestSetDefaultsKeepsSetFields(t *testing.T) {
	c, err := Decode(mustRead(t, "testdata/valid/full.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	before := *c
	local := *c.Etcd.Local
	before.Etcd.Local = &local
	SetDefaults(c)
	if !reflect.DeepEqual(&before, c) {
		t.Errorf("SetDefaults changed set fields:\nbefore %+v\nafter  %+v", before, *c)
	}
	// Running it twice changes nothing either: defaults are idempotent.
	again := *c
	SetDefaults(&again)
	if !reflect.DeepEqual(&again, c) {
		t.Error("SetDefaults is not idempotent")
	}
}

func TestSetDefaultsFillsEveryField(t *testing.T) {
	c := &BootstrapConfiguration{}
	c.APIServer.AdvertiseAddress = "192.168.1.10"
	SetDefaults(c)
	if c.APIServer.ExternalURL != "https://192.168.1.10:6443" || c.Etcd.Local == nil || c.Etcd.External != nil ||
		c.Certificates.Validity.Duration != 8760*time.Hour || c.Images.Flannel != "" {
		t.Errorf("unexpected defaults: %+v", c)
	}
	host, _ := os.Hostname()
	if c.Node.Name != strings.ToLower(host) {
		t.Errorf("node.name = %q, want the lower-cased host name %q", c.Node.Name, host)
	}
}

func TestOverridesWinAndDriveDerivedDefaults(t *testing.T) {
	c, err := Load("testdata/valid/minimal.yaml", fixedNode, func(c *BootstrapConfiguration) {
		c.APIServer.AdvertiseAddress = "10.0.0.7"
		c.KubernetesVersion = "v1.37.0"
	})
	if err != nil {
		t.Fatal(err)
	}
	if c.APIServer.ExternalURL != "https://10.0.0.7:6443" || c.Images.KubeAPIServer != "registry.k8s.io/kube-apiserver:v1.37.0" {
		t.Errorf("derived defaults ignore the overrides: %q %q", c.APIServer.ExternalURL, c.Images.KubeAPIServer)
	}
}

// A written configuration spells every image out (the asset dir's
// bootstrap-config.yaml): re-rendering it for another kubernetesVersion must
// move the images derived from the old version, and only those.
func TestWrittenConfigFollowsANewVersion(t *testing.T) {
	c, err := Load("testdata/valid/minimal.yaml", fixedNode, func(c *BootstrapConfiguration) { c.KubernetesVersion = PreviousKubernetesVersion })
	if err != nil {
		t.Fatal(err)
	}
	c.Images.KubeScheduler = "registry.example.com/my-scheduler:v1"
	written, err := Marshal(c)
	if err != nil {
		t.Fatal(err)
	}
	again, err := LoadBytes(written, "bootstrap-config.yaml", func(c *BootstrapConfiguration) { c.KubernetesVersion = DefaultKubernetesVersion })
	if err != nil {
		t.Fatal(err)
	}
	if want := "registry.k8s.io/kube-apiserver:" + DefaultKubernetesVersion; again.Images.KubeAPIServer != want {
		t.Errorf("images.kubeAPIServer = %q after the version change, want %q", again.Images.KubeAPIServer, want)
	}
	if again.Images.KubeScheduler != "registry.example.com/my-scheduler:v1" {
		t.Errorf("a chosen image was replaced: %q", again.Images.KubeScheduler)
	}
	same, err := LoadBytes(written, "bootstrap-config.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(same, c) {
		t.Errorf("re-loading the written configuration changed it:\n%+v\n%+v", same.Images, c.Images)
	}
}

func TestOverriddenFieldsAreNamed(t *testing.T) {
	_, err := Load("testdata/valid/minimal.yaml", fixedNode, func(c *BootstrapConfiguration) {
		c.APIServer.AdvertiseAddress = "127.0.0.1"
		c.APIServer.ExtraSANs = []string{"ok.example.com", "not ok"}
	})
	msg := fmt.Sprint(err)
	for _, want := range []string{
		`minimal.yaml: apiServer.advertiseAddress: Invalid value: "127.0.0.1": must not be a loopback address: other nodes and the pods reach the API server on it (overridden on the command line)`,
		`minimal.yaml: apiServer.extraSANs[1]: Invalid value: "not ok"`,
	} {
		if !strings.Contains(msg, want) {
			t.Errorf("error lacks %q:\n%s", want, msg)
		}
	}
	if strings.Count(msg, "(overridden on the command line)") != 2 {
		t.Errorf("want exactly the two overridden fields marked:\n%s", msg)
	}
}

func TestComplete(t *testing.T) {
	c := &BootstrapConfiguration{}
	fixedNode(c)
	err := Complete(c, "flags")
	if !IsInvalid(err) || !strings.Contains(err.Error(), "flags: apiServer.advertiseAddress: Required value") {
		t.Fatalf("got %v", err)
	}
	c = &BootstrapConfiguration{APIServer: APIServer{AdvertiseAddress: "fd00::5"},
		Networking: Networking{PodCIDR: "fd00:1::/56", ServiceCIDR: "fd00:2::/112"}}
	fixedNode(c)
	if err := Complete(c, "flags"); err != nil {
		t.Fatal(err)
	}
	if c.APIServer.ExternalURL != "https://[fd00::5]:6443" {
		t.Errorf("externalURL %q", c.APIServer.ExternalURL)
	}
}

func TestValidateDurations(t *testing.T) {
	c := &BootstrapConfiguration{APIServer: APIServer{AdvertiseAddress: "192.168.1.10"}}
	fixedNode(c)
	SetDefaults(c)
	c.Certificates.CAValidity = nil // unreachable from a file, but Validate must not panic
	c.Certificates.Validity = &metav1.Duration{}
	var got []string
	for _, e := range Validate(c) {
		got = append(got, e.Field)
	}
	if !slices.Equal(got, []string{"certificates.caValidity", "certificates.validity"}) {
		t.Errorf("got %q", got)
	}
}

// TestFullFixtureSetsEveryField keeps full.yaml complete as fields are added:
// it is the fixture that proves every field decodes and survives defaulting.
func TestFullFixtureSetsEveryField(t *testing.T) {
	c, err := Decode(mustRead(t, "testdata/valid/full.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	var walk func(v reflect.Value, path string)
	walk = func(v reflect.Value, path string) {
		switch {
		case path == ".Etcd.External": // exclusive with Etcd.Local; see external-etcd.yaml
		case v.Kind() == reflect.Pointer && !v.IsNil():
			walk(v.Elem(), path)
		case v.Kind() == reflect.Struct && v.Type().PkgPath() == reflect.TypeFor[BootstrapConfiguration]().PkgPath():
			for i := 0; i < v.NumField(); i++ {
				walk(v.Field(i), path+"."+v.Type().Field(i).Name)
			}
		case v.IsZero():
			t.Errorf("full.yaml does not set %s", path)
		}
	}
	walk(reflect.ValueOf(c).Elem(), "")
}

func mustRead(t *testing.T, f string) []byte {
	t.Helper()
	b, err := os.ReadFile(f)
	if err != nil {
		t.Fatal(err)
	}
	return b
}
