package v1alpha1

import (
	"errors"
	"strings"
	"testing"
)

const header = "apiVersion: config.bootstrap.dev/v1alpha1\nkind: BootstrapConfiguration\n"

// TestDecode covers what the fixtures cannot show one per file: how YAML
// features map onto the strict decoder.
func TestDecode(t *testing.T) {
	for _, tc := range []struct {
		name, in string
		check    func(*BootstrapConfiguration) bool
		wantErr  string // substring of the error; "" means success
	}{
		{name: "extraArgs values are strings whatever they look like",
			in: header + "apiServer:\n  extraArgs: {v: 4, profiling: false, max-requests-inflight: 800, x: 1.5}\n",
			check: func(c *BootstrapConfiguration) bool {
				a := c.APIServer.ExtraArgs
				return a["v"] == "4" && a["profiling"] == "false" && a["max-requests-inflight"] == "800" && a["x"] == "1.5"
			}},
		{name: "YAML 1.2 scalars: on/yes stay strings",
			in:    header + "clusterName: yes\nnetworking: {cni: on}\n",
			check: func(c *BootstrapConfiguration) bool { return c.ClusterName == "yes" && c.Networking.CNI == "on" }},
		{name: "anchors and aliases",
			in:    header + "apiServer: {extraArgs: &args {a: b}}\nscheduler: {extraArgs: *args}\n",
			check: func(c *BootstrapConfiguration) bool { return c.Scheduler.ExtraArgs["a"] == "b" }},
		{name: "null sections are empty",
			in:    header + "apiServer:\nnode: ~\nnetworking: null\n",
			check: func(c *BootstrapConfiguration) bool { return c.APIServer.AdvertiseAddress == "" }},
		{name: "JSON",
			in:    `{"apiVersion": "config.bootstrap.dev/v1alpha1", "kind": "BootstrapConfiguration", "apiServer": {"bindPort": 8443}}`,
			check: func(c *BootstrapConfiguration) bool { return c.APIServer.BindPort == 8443 }},
		{name: "document markers and a trailing empty document",
			in:    "---\n" + header + "clusterName: a\n---\n# nothing\n",
			check: func(c *BootstrapConfiguration) bool { return c.ClusterName == "a" }},
		{name: "durations",
			in: header + "certificates: {caValidity: 1000h, validity: 90m}\n",
			check: func(c *BootstrapConfiguration) bool {
				return c.Certificates.CAValidity.Hours() == 1000 && c.Certificates.Validity.Minutes() == 90
			}},
		{name: "case-sensitive field names", in: header + "ClusterName: x\n", wantErr: `ClusterName: Forbidden: line 3: unknown field (did you mean "clusterName"?)`},
		{name: "unknown field in a list", in: header + "etcd: {external: {endpoints: [{url: x}]}}\n", wantErr: "etcd.external.endpoints: Invalid value"},
		{name: "duplicate key in extraArgs", in: header + "proxy:\n  extraArgs:\n    v: 1\n    v: 2\n", wantErr: "proxy.extraArgs[v]: Duplicate value: set twice, on lines 5 and 6"},
		{name: "mapping where a string belongs", in: header + "clusterName: {a: b}\n", wantErr: "clusterName: Invalid value: line 3: must be a string"},
		{name: "list where a mapping belongs", in: header + "apiServer: [a]\n", wantErr: "apiServer: Invalid value: line 3: must be a mapping, found array"},
		{name: "integer overflow", in: header + "apiServer: {bindPort: 99999999999999999999}\n", wantErr: "apiServer.bindPort"},
		{name: "int32 overflow", in: header + "apiServer: {bindPort: 9999999999}\n", wantErr: "apiServer.bindPort: Invalid value: \"9999999999\": line 3: must be an integer between -2147483648 and 2147483647"},
		{name: "float for an integer", in: header + "apiServer: {bindPort: 64.43}\n", wantErr: "must be an integer, found number 64.43"},
		{name: "kind is not a string", in: "apiVersion: config.bootstrap.dev/v1alpha1\nkind: [BootstrapConfiguration]\n", wantErr: "kind: Unsupported value"},
		{name: "only a document separator", in: "---\n", wantErr: "the configuration is empty"},
		{name: "whitespace", in: " \n\t\n", wantErr: "the configuration is empty"},
		{name: "a scalar", in: "hello", wantErr: `found the text "hello"`},
		{name: "tabs", in: header + "apiServer:\n\tbindPort: 1\n", wantErr: "not valid YAML"},
		{name: "merge keys", in: header + "apiServer:\n  <<: {bindPort: 1}\n", wantErr: "apiServer.<<: Forbidden: line 4: YAML merge keys are not supported"},
		{name: "billion laughs", in: laughs(), wantErr: "expands to more than"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c, err := Decode([]byte(tc.in))
			if tc.wantErr == "" {
				if err != nil {
					t.Fatal(err)
				}
				if !tc.check(c) {
					t.Errorf("decoded %+v", c)
				}
				return
			}
			var ie *InvalidError
			if !errors.As(err, &ie) {
				t.Fatalf("got %T %v, want *InvalidError", err, err)
			}
			if !strings.Contains(err.Error(), tc.wantErr) {
				t.Errorf("error does not contain %q:\n%v", tc.wantErr, err)
			}
		})
	}
}

// laughs is a small document whose aliases expand to 10^9 nodes.
func laughs() string {
	var b strings.Builder
	b.WriteString(header + "l0: &l0 [x, x, x, x, x, x, x, x, x, x]\n")
	for i := 1; i <= 8; i++ {
		b.WriteString("l" + string(rune('0'+i)) + ": &l" + string(rune('0'+i)) + " [")
		for j := 0; j < 10; j++ {
			if j > 0 {
				b.WriteString(", ")
			}
			b.WriteString("*l" + string(rune('0'+i-1)))
		}
		b.WriteString("]\n")
	}
	return b.String()
}

func TestSuggest(t *testing.T) {
	for in, want := range map[string]string{
		"apiServer.advertiseAdress":      "advertiseAddress",
		"apiServer.bindport":             "bindPort",
		"podCIDR":                        "networking.podCIDR",
		"dataDir":                        "etcd.local.dataDir",
		"etcd.local.dataDirectory":       "",
		"xyz":                            "",
		"etcd.external.endpoints[0].url": "",
	} {
		if got := suggest(in); got != want {
			t.Errorf("suggest(%q) = %q, want %q", in, got, want)
		}
	}
}
