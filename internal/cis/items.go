package cis

import (
	"fmt"
	"io/fs"
	"path"
	"slices"
	"sort"
	"strconv"
	"strings"

	"sigs.k8s.io/yaml"
)

// Result of one item.
type Result string

const (
	Pass          Result = "pass"
	Fail          Result = "fail"
	NotApplicable Result = "n/a"
)

// Source says what an item is computed from: the rendered asset dir, or the
// kubelet (its configuration and flags).
type Source string

const (
	Rendered Source = "render"
	Kubelet  Source = "kubelet"
)

// Item is one benchmark recommendation and how to check it.
type Item struct {
	ID, Title string
	Source    Source
	check     func(*Inputs) (Result, string)
}

// Outcome is an evaluated Item.
type Outcome struct {
	Item
	Result Result
	Why    string
}

// Evaluate computes every item whose source in has: the rendered items
// need LoadAssetDir's inputs, the 4.2 items in.Kubelet.
func Evaluate(in *Inputs) []Outcome {
	var out []Outcome
	for _, it := range Items() {
		if it.Source == Kubelet && in.Kubelet == nil || it.Source == Rendered && in.Etcd.Pod == nil {
			continue
		}
		r, why := it.check(in)
		out = append(out, Outcome{Item: it, Result: r, Why: why})
	}
	return out
}

// Items is the checklist, in benchmark order.
func Items() []Item {
	var items []Item
	items = append(items, fileItems()...)
	items = append(items, apiServerItems()...)
	items = append(items, controllerManagerItems()...)
	items = append(items, schedulerItems()...)
	items = append(items, etcdItems()...)
	items = append(items, kubeletItems()...)
	return items
}

func passIf(ok bool, pass, fail string) (Result, string) {
	if ok {
		return Pass, pass
	}
	return Fail, fail
}

// ---------------------------------------------------------------- 1.1 files

// ownership is decided where the asset dir is installed, not by render.
const ownershipWhy = "set where the asset dir is installed, not by render: root-owned on the node (docs/cloud-init.md); `start` installs the etcd files as root"

func modeItem(id, title string, paths ...string) Item {
	return Item{ID: id, Title: title, Source: Rendered, check: func(in *Inputs) (Result, string) {
		return checkModes(in, paths...)
	}}
}

// checkModes: every asset path matching one of the patterns (path.Match)
// is 0600 or stricter.
func checkModes(in *Inputs, patterns ...string) (Result, string) {
	var loose, seen []string
	for p, m := range in.Modes {
		if !slices.ContainsFunc(patterns, func(pat string) bool { ok, _ := path.Match(pat, p); return ok }) {
			continue
		}
		seen = append(seen, p)
		if m&^fs.FileMode(0o600) != 0 {
			loose = append(loose, fmt.Sprintf("%s %04o", p, m))
		}
	}
	sort.Strings(loose)
	if len(seen) == 0 {
		return Fail, fmt.Sprintf("render wrote no %v", patterns)
	}
	return passIf(len(loose) == 0,
		fmt.Sprintf("%s: 0600 or stricter", strings.Join(patterns, ", ")),
		"not 0600: "+strings.Join(loose, ", "))
}

func ownItem(id, title string) Item {
	return Item{ID: id, Title: title, Source: Rendered, check: func(*Inputs) (Result, string) { return NotApplicable, ownershipWhy }}
}

func fileItems() []Item {
	selfHosted := " (self-hosted: the manifest start applies)"
	return []Item{
		modeItem("1.1.1", "API server pod specification file permissions 600"+selfHosted, "manifests/10-kube-apiserver.yaml"),
		ownItem("1.1.2", "API server pod specification file ownership root:root"),
		modeItem("1.1.3", "controller manager pod specification file permissions 600"+selfHosted, "manifests/11-kube-controller-manager.yaml"),
		ownItem("1.1.4", "controller manager pod specification file ownership root:root"),
		modeItem("1.1.5", "scheduler pod specification file permissions 600"+selfHosted, "manifests/12-kube-scheduler.yaml"),
		ownItem("1.1.6", "scheduler pod specification file ownership root:root"),
		modeItem("1.1.7", "etcd pod specification file permissions 600", "static/etcd.yaml"),
		ownItem("1.1.8", "etcd pod specification file ownership root:root"),
		{ID: "1.1.9", Title: "Container Network Interface file permissions 600", Source: Rendered, check: func(*Inputs) (Result, string) {
			return NotApplicable, "the CNI configuration is the node's (networking.cni bridge/none), not rendered; flannel's comes from its DaemonSet"
		}},
		{ID: "1.1.10", Title: "Container Network Interface file ownership root:root", Source: Rendered, check: func(*Inputs) (Result, string) {
			return NotApplicable, "as 1.1.9"
		}},
		{ID: "1.1.11", Title: "etcd data directory permissions 700", Source: Rendered, check: func(*Inputs) (Result, string) {
			return NotApplicable, "created at start by etcd itself, which makes --data-dir 0700 and refuses to use a looser one; nothing rendered"
		}},
		{ID: "1.1.12", Title: "etcd data directory ownership etcd:etcd", Source: Rendered, check: func(in *Inputs) (Result, string) {
			sc := in.Etcd.Pod.SecurityContext
			if sc != nil && sc.RunAsUser != nil && *sc.RunAsUser != 0 {
				return Pass, fmt.Sprintf("etcd runs as uid %d and owns its data dir", *sc.RunAsUser)
			}
			return Fail, "etcd runs as root (as kubeadm's does), so its data dir is root:root, 0700"
		}},
		modeItem("1.1.13", "default administrative credential file permissions 600 (admin and super-admin kubeconfigs)",
			"auth/admin.kubeconfig", "auth/super-admin.kubeconfig"),
		ownItem("1.1.14", "default administrative credential file ownership root:root"),
		modeItem("1.1.15", "scheduler.conf permissions 600", "auth/scheduler.kubeconfig"),
		ownItem("1.1.16", "scheduler.conf ownership root:root"),
		modeItem("1.1.17", "controller-manager.conf permissions 600", "auth/controller-manager.kubeconfig"),
		ownItem("1.1.18", "controller-manager.conf ownership root:root"),
		ownItem("1.1.19", "Kubernetes PKI directory and file ownership root:root"),
		modeItem("1.1.20", "Kubernetes PKI certificate file permissions 600", "tls/*.crt", "tls/etcd/*.crt"),
		modeItem("1.1.21", "Kubernetes PKI key file permissions 600", "tls/*.key", "tls/etcd/*.key"),
	}
}

// ---------------------------------------------------------------- 1.2 API server

func flagItem(id, title string, c func(*Inputs) *Component, check func(*Component) (Result, string)) Item {
	return Item{ID: id, Title: title, Source: Rendered, check: func(in *Inputs) (Result, string) { return check(c(in)) }}
}

func apiServer(in *Inputs) *Component         { return &in.APIServer }
func controllerManager(in *Inputs) *Component { return &in.ControllerManager }
func scheduler(in *Inputs) *Component         { return &in.Scheduler }
func etcd(in *Inputs) *Component              { return &in.Etcd }

func flagsSet(names ...string) func(*Component) (Result, string) {
	return func(c *Component) (Result, string) {
		var missing []string
		for _, n := range names {
			if c.Flags[n] == "" {
				missing = append(missing, "--"+n)
			}
		}
		return passIf(len(missing) == 0, "--"+strings.Join(names, ", --")+" set", "not set: "+strings.Join(missing, ", "))
	}
}

func flagNotSet(name string) func(*Component) (Result, string) {
	return func(c *Component) (Result, string) {
		return passIf(!c.Has(name), "--"+name+" not set", "--"+name+"="+c.Flags[name])
	}
}

func flagIs(name, want, dflt string) func(*Component) (Result, string) {
	return func(c *Component) (Result, string) {
		v, ok := c.Flags[name]
		if !ok {
			return passIf(dflt == want, fmt.Sprintf("--%s unset, default %s", name, dflt), fmt.Sprintf("--%s unset, default %s", name, dflt))
		}
		return passIf(v == want, fmt.Sprintf("--%s=%s", name, v), fmt.Sprintf("--%s=%s, want %s", name, v, want))
	}
}

func flagNotEqual(name, bad, dflt string) func(*Component) (Result, string) {
	return func(c *Component) (Result, string) {
		v, ok := c.Flags[name]
		if !ok {
			v = dflt
		}
		return passIf(v != bad, fmt.Sprintf("--%s=%s", name, v), fmt.Sprintf("--%s=%s", name, v))
	}
}

func flagAtLeast(name string, min int) func(*Component) (Result, string) {
	return func(c *Component) (Result, string) {
		v, err := strconv.Atoi(c.Flags[name])
		if err != nil {
			return Fail, fmt.Sprintf("--%s not set", name)
		}
		return passIf(v >= min, fmt.Sprintf("--%s=%d", name, v), fmt.Sprintf("--%s=%d, want at least %d", name, v, min))
	}
}

func admission(in *Inputs) (enabled, disabled []string) {
	return in.APIServer.List("enable-admission-plugins"), in.APIServer.List("disable-admission-plugins")
}

func pluginOn(name string, defaultOn bool) func(*Inputs) (Result, string) {
	return func(in *Inputs) (Result, string) {
		en, dis := admission(in)
		switch {
		case slices.Contains(dis, name):
			return Fail, name + " in --disable-admission-plugins"
		case slices.Contains(en, name):
			return Pass, name + " in --enable-admission-plugins"
		case defaultOn:
			return Pass, name + " is on by default and not disabled"
		}
		return Fail, name + " not in --enable-admission-plugins"
	}
}

func authorizationModes(c *Component) []string { return c.List("authorization-mode") }

func apiServerItems() []Item {
	a := apiServer
	rendered := func(id, title string, check func(*Inputs) (Result, string)) Item {
		return Item{ID: id, Title: title, Source: Rendered, check: check}
	}
	return []Item{
		rendered("1.2.1", "--anonymous-auth is false", anonymousAuth),
		flagItem("1.2.2", "--token-auth-file is not set", a, flagNotSet("token-auth-file")),
		rendered("1.2.3", "admission plugin DenyServiceExternalIPs is set", pluginOn("DenyServiceExternalIPs", false)),
		flagItem("1.2.4", "--kubelet-client-certificate and --kubelet-client-key are set", a, flagsSet("kubelet-client-certificate", "kubelet-client-key")),
		flagItem("1.2.5", "--kubelet-certificate-authority is set", a, flagsSet("kubelet-certificate-authority")),
		flagItem("1.2.6", "--authorization-mode is not AlwaysAllow", a, func(c *Component) (Result, string) {
			m := authorizationModes(c)
			return passIf(len(m) > 0 && !slices.Contains(m, "AlwaysAllow"), "--authorization-mode="+c.Flags["authorization-mode"], "--authorization-mode="+c.Flags["authorization-mode"])
		}),
		flagItem("1.2.7", "--authorization-mode includes Node", a, func(c *Component) (Result, string) {
			return passIf(slices.Contains(authorizationModes(c), "Node"), "--authorization-mode="+c.Flags["authorization-mode"], "Node missing")
		}),
		flagItem("1.2.8", "--authorization-mode includes RBAC", a, func(c *Component) (Result, string) {
			return passIf(slices.Contains(authorizationModes(c), "RBAC"), "--authorization-mode="+c.Flags["authorization-mode"], "RBAC missing")
		}),
		rendered("1.2.9", "admission plugin EventRateLimit is set", pluginOn("EventRateLimit", false)),
		rendered("1.2.10", "admission plugin AlwaysAdmit is not set", func(in *Inputs) (Result, string) {
			en, _ := admission(in)
			return passIf(!slices.Contains(en, "AlwaysAdmit"), "AlwaysAdmit not enabled", "AlwaysAdmit enabled")
		}),
		rendered("1.2.11", "admission plugin AlwaysPullImages is set", pluginOn("AlwaysPullImages", false)),
		rendered("1.2.12", "admission plugin ServiceAccount is set", pluginOn("ServiceAccount", true)),
		rendered("1.2.13", "admission plugin NamespaceLifecycle is set", pluginOn("NamespaceLifecycle", true)),
		rendered("1.2.14", "admission plugin NodeRestriction is set", pluginOn("NodeRestriction", false)),
		flagItem("1.2.15", "--profiling is false", a, flagIs("profiling", "false", "true")),
		flagItem("1.2.16", "--audit-log-path is set", a, flagsSet("audit-log-path")),
		flagItem("1.2.17", "--audit-log-maxage is 30 or as appropriate", a, flagAtLeast("audit-log-maxage", 30)),
		flagItem("1.2.18", "--audit-log-maxbackup is 10 or as appropriate", a, flagAtLeast("audit-log-maxbackup", 10)),
		flagItem("1.2.19", "--audit-log-maxsize is 100 or as appropriate", a, flagAtLeast("audit-log-maxsize", 100)),
		flagItem("1.2.20", "--request-timeout is appropriate", a, func(c *Component) (Result, string) {
			v, ok := c.Flags["request-timeout"]
			return passIf(!ok || v != "0" && v != "0s", "--request-timeout default 1m0s", "--request-timeout="+v)
		}),
		flagItem("1.2.21", "--service-account-lookup is true", a, flagIs("service-account-lookup", "true", "true")),
		flagItem("1.2.22", "--service-account-key-file is set", a, flagsSet("service-account-key-file")),
		flagItem("1.2.23", "--etcd-certfile and --etcd-keyfile are set", a, flagsSet("etcd-certfile", "etcd-keyfile")),
		flagItem("1.2.24", "--tls-cert-file and --tls-private-key-file are set", a, flagsSet("tls-cert-file", "tls-private-key-file")),
		flagItem("1.2.25", "--client-ca-file is set", a, flagsSet("client-ca-file")),
		flagItem("1.2.26", "--etcd-cafile is set", a, flagsSet("etcd-cafile")),
		flagItem("1.2.27", "--encryption-provider-config is set", a, flagsSet("encryption-provider-config")),
		rendered("1.2.28", "encryption providers are appropriately configured", encryptionProviders),
		flagItem("1.2.29", "the API server only uses strong cryptographic ciphers", a, strongCiphers("tls-cipher-suites")),
	}
}

// anonymousAuth: off, or (AuthenticationConfiguration) on for the health
// paths only, which is what the kubelet's probes need.
func anonymousAuth(in *Inputs) (Result, string) {
	c := &in.APIServer
	if c.Flags["anonymous-auth"] == "false" {
		return Pass, "--anonymous-auth=false"
	}
	if !c.Has("authentication-config") {
		return Fail, "anonymous requests are authenticated (default --anonymous-auth=true)"
	}
	var cfg struct {
		Anonymous *struct {
			Enabled    bool `json:"enabled"`
			Conditions []struct {
				Path string `json:"path"`
			} `json:"conditions"`
		} `json:"anonymous"`
	}
	for k, v := range in.Data {
		if !strings.Contains(v, "kind: AuthenticationConfiguration") {
			continue
		}
		if err := yaml.Unmarshal([]byte(v), &cfg); err != nil {
			return Fail, k + ": " + err.Error()
		}
		if cfg.Anonymous == nil || !cfg.Anonymous.Enabled {
			return Pass, "AuthenticationConfiguration (" + k + "): anonymous off"
		}
		var paths []string
		for _, p := range cfg.Anonymous.Conditions {
			// Health probes, and join's discovery: the cluster-info ConfigMap
			// alone (the RBAC Role lets anonymous get that one object), as kubeadm.
			if !slices.Contains([]string{"/livez", "/readyz", "/healthz", "/api/v1/namespaces/kube-public/configmaps/cluster-info"}, p.Path) {
				return Fail, "anonymous allowed on " + p.Path
			}
			paths = append(paths, p.Path)
		}
		if len(paths) == 0 {
			return Fail, "anonymous enabled without conditions"
		}
		return Pass, "anonymous only for " + strings.Join(paths, ", ") + " (AuthenticationConfiguration: probes, and join's discovery of the cluster-info ConfigMap, which RBAC limits to that one object); every other anonymous request is 401"
	}
	return Fail, "--authentication-config set but no rendered AuthenticationConfiguration found"
}

// encryptionProviders: the first provider of secrets encrypts (identity
// first would write them in clear).
func encryptionProviders(in *Inputs) (Result, string) {
	if !in.APIServer.Has("encryption-provider-config") {
		return Fail, "no --encryption-provider-config: Secrets are stored in clear"
	}
	var cfg struct {
		Resources []struct {
			Resources []string         `json:"resources"`
			Providers []map[string]any `json:"providers"`
		} `json:"resources"`
	}
	for k, v := range in.Data {
		if !strings.Contains(v, "kind: EncryptionConfiguration") {
			continue
		}
		if err := yaml.Unmarshal([]byte(v), &cfg); err != nil {
			return Fail, k + ": " + err.Error()
		}
		for _, r := range cfg.Resources {
			if !slices.Contains(r.Resources, "secrets") || len(r.Providers) == 0 {
				continue
			}
			for name := range r.Providers[0] {
				return passIf(slices.Contains([]string{"aescbc", "aesgcm", "secretbox", "kms"}, name),
					"secrets: first provider "+name, "secrets: first provider "+name+" (clear text)")
			}
		}
		return Fail, k + ": no provider for secrets"
	}
	return Fail, "--encryption-provider-config set but no rendered EncryptionConfiguration found"
}

// strongCiphers: every suite is an AEAD (GCM or ChaCha20-Poly1305): no CBC,
// 3DES or RC4. Go's defaults still include CBC suites, so unset fails.
func strongCiphers(name string) func(*Component) (Result, string) {
	return func(c *Component) (Result, string) {
		return checkCiphers(name, c.List(name))
	}
}

func checkCiphers(name string, suites []string) (Result, string) {
	if len(suites) == 0 {
		return Fail, name + " not set: Go's defaults include CBC suites"
	}
	var weak []string
	for _, s := range suites {
		if !strings.Contains(s, "_GCM_") && !strings.Contains(s, "CHACHA20_POLY1305") {
			weak = append(weak, s)
		}
	}
	return passIf(len(weak) == 0, fmt.Sprintf("%s: %d AEAD suites only", name, len(suites)), "weak suites: "+strings.Join(weak, ", "))
}

// ---------------------------------------------------------------- 1.3, 1.4

func controllerManagerItems() []Item {
	m := controllerManager
	return []Item{
		flagItem("1.3.1", "--terminated-pod-gc-threshold is appropriate", m, func(c *Component) (Result, string) {
			v, ok := c.Flags["terminated-pod-gc-threshold"]
			return passIf(ok, "--terminated-pod-gc-threshold="+v, "unset: the default 12500 terminated pods are kept")
		}),
		flagItem("1.3.2", "--profiling is false", m, flagIs("profiling", "false", "true")),
		flagItem("1.3.3", "--use-service-account-credentials is true", m, flagIs("use-service-account-credentials", "true", "false")),
		flagItem("1.3.4", "--service-account-private-key-file is set", m, flagsSet("service-account-private-key-file")),
		flagItem("1.3.5", "--root-ca-file is set", m, flagsSet("root-ca-file")),
		flagItem("1.3.6", "RotateKubeletServerCertificate is true", m, func(c *Component) (Result, string) {
			return passIf(!strings.Contains(c.Flags["feature-gates"], "RotateKubeletServerCertificate=false"),
				"feature gate on (default), not disabled", "--feature-gates disables it")
		}),
		flagItem("1.3.7", "--bind-address is 127.0.0.1", m, flagIs("bind-address", "127.0.0.1", "0.0.0.0")),
	}
}

func schedulerItems() []Item {
	s := scheduler
	return []Item{
		flagItem("1.4.1", "--profiling is false", s, flagIs("profiling", "false", "true")),
		flagItem("1.4.2", "--bind-address is 127.0.0.1", s, flagIs("bind-address", "127.0.0.1", "0.0.0.0")),
	}
}

// ---------------------------------------------------------------- 2 etcd

func etcdItems() []Item {
	e := etcd
	return []Item{
		flagItem("2.1", "--cert-file and --key-file are set", e, flagsSet("cert-file", "key-file")),
		flagItem("2.2", "--client-cert-auth is true", e, flagIs("client-cert-auth", "true", "false")),
		flagItem("2.3", "--auto-tls is not true", e, flagNotEqual("auto-tls", "true", "false")),
		flagItem("2.4", "--peer-cert-file and --peer-key-file are set", e, flagsSet("peer-cert-file", "peer-key-file")),
		flagItem("2.5", "--peer-client-cert-auth is true", e, flagIs("peer-client-cert-auth", "true", "false")),
		flagItem("2.6", "--peer-auto-tls is not true", e, flagNotEqual("peer-auto-tls", "true", "false")),
		{ID: "2.7", Title: "a unique Certificate Authority is used for etcd", Source: Rendered, check: func(in *Inputs) (Result, string) {
			return passIf(!in.SameCA, "tls/etcd/ca.crt is a CA of its own, not tls/ca.crt", "etcd's CA is the cluster CA")
		}},
	}
}
