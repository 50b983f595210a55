package v1alpha1

import (
	"fmt"
	"slices"
	"strings"
)

// TLS settings of every secure port render configures (kube-apiserver,
// controller-manager, scheduler) and of the temporary apiserver: TLS 1.2 or
// newer, and for TLS 1.2 only ECDHE key exchange with AEAD ciphers (forward
// secrecy, no CBC). TLS 1.3 suites are not configurable in Go and all strong.
const MinTLSVersion = "VersionTLS12"

// TLSCipherSuites are the TLS 1.2 suites render allows, by their IANA names
// (the names kube-apiserver's --tls-cipher-suites takes).
var TLSCipherSuites = []string{
	"TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256",
	"TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256",
	"TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384",
	"TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384",
	"TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256",
	"TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256",
}

// MergedListFlags are comma-separated list flags whose extraArgs value is
// added to render's own: the result is render's items in render's order, then
// the user's items that render lacks, in the user's order. Replacing render's
// list would silently drop what it set (enable-admission-plugins: PodSecurity
// used to drop NodeRestriction).
var MergedListFlags = map[string]bool{
	"enable-admission-plugins": true, // kube-apiserver
	"controllers":              true, // kube-controller-manager
}

// MergeList is the union of render's list and the user's (see MergedListFlags).
func MergeList(base, extra string) string {
	out := splitList(base)
	for _, item := range splitList(extra) {
		if !slices.Contains(out, item) {
			out = append(out, item)
		}
	}
	return strings.Join(out, ",")
}

func splitList(v string) []string {
	var out []string
	for _, item := range strings.Split(v, ",") {
		if item = strings.TrimSpace(item); item != "" {
			out = append(out, item)
		}
	}
	return out
}

// flagCheck returns why a value would remove a security property of the
// rendered cluster, or "" if it keeps them all.
type flagCheck func(value string) string

// SecurityFlags are the flags an extraArgs entry may set only to values that
// keep the security render sets up, per component (keyed like ManagedFlags).
// A flag that can only weaken (an insecure port, a static token file) refuses
// every value. docs/assets.md lists them with ManagedFlags.
var SecurityFlags = map[string]map[string]flagCheck{
	"apiServer": {
		"anonymous-auth": always("anonymous requests are limited to /livez, /readyz and /healthz by the rendered authentication configuration " +
			"(kube-apiserver refuses --anonymous-auth beside it)"),
		"authentication-config": always("render writes the authentication configuration (anonymous access to the health paths only)"),
		"token-auth-file":       always("static bearer tokens cannot be rotated or revoked; use client certificates or service-account tokens"),
		"insecure-port":         always("the insecure port serves unauthenticated, unencrypted requests"),
		"insecure-bind-address": always("the insecure port serves unauthenticated, unencrypted requests"),
		"authorization-config":  always("set authorization-mode (it must keep Node and RBAC) instead"),
		"authorization-mode":    authorizationMode,
		"enable-admission-plugins": func(v string) string {
			if slices.Contains(splitList(v), "AlwaysAdmit") {
				return "AlwaysAdmit turns admission control off"
			}
			return ""
		},
		"disable-admission-plugins": func(v string) string {
			for _, p := range []string{"NodeRestriction", "ServiceAccount", "NamespaceLifecycle"} {
				if slices.Contains(splitList(v), p) {
					return p + " must stay enabled: it keeps kubelets to their own node (NodeRestriction), pods to existing service accounts (ServiceAccount) and objects out of terminating namespaces (NamespaceLifecycle)"
				}
			}
			return ""
		},
		"encryption-provider-config":    always("render writes the encryption configuration (Secrets encrypted at rest with the asset dir's key; see docs/assets.md, key rotation)"),
		"audit-policy-file":             always("render writes the audit policy (Metadata level, never request bodies)"),
		"audit-log-path":                always("render writes the audit log to a hostPath volume; tune it with audit-log-maxage, audit-log-maxbackup, audit-log-maxsize"),
		"kubelet-certificate-authority": always("kube-apiserver verifies kubelet serving certificates against the cluster CA that render manages"),
		"requestheader-allowed-names":   always("only render's front-proxy-client certificate may assert a user through request headers"),
		"service-account-lookup":        wantValue("true", "a deleted service account's tokens must stop working"),
		"profiling":                     wantValue("false", "profiling exposes program internals and costs CPU on demand"),
		"tls-min-version":               tlsMinVersion,
		"tls-cipher-suites":             tlsCipherSuites,
		"oidc-":                         always("kube-apiserver refuses --oidc-* beside --authentication-config, which render sets"),
	},
	"controllerManager": {
		"profiling":                       wantValue("false", "profiling exposes program internals and costs CPU on demand"),
		"use-service-account-credentials": wantValue("true", "each controller must act with its own least-privilege credentials"),
		"bind-address":                    loopbackOnly,
		"tls-min-version":                 tlsMinVersion,
		"tls-cipher-suites":               tlsCipherSuites,
	},
	"scheduler": {
		"profiling":         wantValue("false", "profiling exposes program internals and costs CPU on demand"),
		"bind-address":      loopbackOnly,
		"tls-min-version":   tlsMinVersion,
		"tls-cipher-suites": tlsCipherSuites,
	},
	"etcd.local": {
		"auto-tls":      always("etcd's self-signed certificates are verified by no one; render issues them from the etcd CA"),
		"peer-auto-tls": always("etcd's self-signed certificates are verified by no one; render issues them from the etcd CA"),
	},
}

// securityCheck finds the check of a flag; a key ending in "-" is a prefix.
func securityCheck(component, flag string) flagCheck {
	for name, check := range SecurityFlags[component] {
		if name == flag || (strings.HasSuffix(name, "-") && strings.HasPrefix(flag, name)) {
			return check
		}
	}
	return nil
}

func always(reason string) flagCheck { return func(string) string { return reason } }

func wantValue(want, reason string) flagCheck {
	return func(v string) string {
		if v != want {
			return fmt.Sprintf("only %q is allowed: %s", want, reason)
		}
		return ""
	}
}

func authorizationMode(v string) string {
	modes := splitList(v)
	if slices.Contains(modes, "AlwaysAllow") {
		return "AlwaysAllow authorizes every request"
	}
	if !slices.Contains(modes, "Node") || !slices.Contains(modes, "RBAC") {
		return "must keep Node and RBAC (the node and component credentials render writes rely on them), e.g. Node,RBAC,Webhook"
	}
	return ""
}

func loopbackOnly(v string) string {
	if v != "127.0.0.1" && v != "::1" {
		return "the secure port serves on loopback only: kube-apiserver and the kubelet's probes reach it there"
	}
	return ""
}

func tlsMinVersion(v string) string {
	if v != "VersionTLS12" && v != "VersionTLS13" {
		return "must be VersionTLS12 or VersionTLS13"
	}
	return ""
}

func tlsCipherSuites(v string) string {
	for _, s := range splitList(v) {
		if !slices.Contains(TLSCipherSuites, s) {
			return fmt.Sprintf("%s is not allowed: only ECDHE key exchange with AEAD ciphers (%s)", s, strings.Join(TLSCipherSuites, ", "))
		}
	}
	if len(splitList(v)) == 0 {
		return "must list at least one suite"
	}
	return ""
}
