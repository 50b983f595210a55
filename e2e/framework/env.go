//go:build e2e

// Package framework runs e2e scenarios on a real node: containerd and a real
// kubelet inside a network namespace of their own (hack/node/node.sh), the
// real Kubernetes binaries and images built by hack/, and the bootstrap
// binary built from this tree. See docs/testing.md.
//
// Environment:
//
//	BOOTSTRAP_E2E_KEEP=1        keep the node (processes, netns, work dir) after the test for inspection;
//	                            tear it down later with `hack/node/node.sh down`
//	BOOTSTRAP_E2E_SKIP_BUILD=1  do not run hack/build-binaries.sh and hack/build-images.sh
//	                            (make-e2e.sh already did)
//	BOOTSTRAP_E2E_ARTIFACTS     where logs go on failure (default e2e/_artifacts)
//	BOOTSTRAP_E2E_ALWAYS_COLLECT=1  collect logs even when the test passed
//	BOOTSTRAP_E2E_WORK          node work dir (default /var/lib/bootstrap-e2e/node)
//	BOOTSTRAP_E2E_NETNS, BOOTSTRAP_E2E_NODE_IP, BOOTSTRAP_E2E_HOST_IP
//	                            a second node beside the default one (e.g. bse2e2,
//	                            10.250.1.2, 10.250.1.1 with BOOTSTRAP_E2E_WORK=/var/lib/bootstrap-e2e/node2)
//	BOOTSTRAP_E2E_BOOTSTRAP_BIN use this bootstrap binary instead of building ./cmd/bootstrap
package framework

import (
	"os"
	"path/filepath"
	"runtime"
	"strings"
)

// Defaults of the e2e node; they match hack/node/env.sh.
const (
	DefaultNodeName = "e2e-node"
	DefaultNodeIP   = "10.250.0.2"
	DefaultHostIP   = "10.250.0.1"
	DefaultNetns    = "bse2e"
	DefaultWork     = "/var/lib/bootstrap-e2e/node"

	// TestServerImage is the e2e workload image (hack/tools/testserver).
	TestServerImage = "localhost/bootstrap-e2e/testserver:v1"
)

// RepoRoot is the root of this repository.
func RepoRoot() string {
	_, file, _, _ := runtime.Caller(0)
	return filepath.Clean(filepath.Join(filepath.Dir(file), "..", ".."))
}

// HackDir is the repository's hack/ directory.
func HackDir() string { return filepath.Join(RepoRoot(), "hack") }

// BinDir is where hack/build-binaries.sh puts the binaries.
func BinDir() string {
	if d := os.Getenv("BOOTSTRAP_HACK_OUT"); d != "" {
		return filepath.Join(d, "bin")
	}
	return filepath.Join(HackDir(), "_output", "bin")
}

// Bin is the path of one built binary (kubelet, kube-apiserver, etcd, kubectl, ...).
func Bin(name string) string { return filepath.Join(BinDir(), name) }

// NodeScript is hack/node/node.sh.
func NodeScript() string { return filepath.Join(HackDir(), "node", "node.sh") }

// ArtifactsRoot is where failed tests leave their logs.
func ArtifactsRoot() string {
	if d := os.Getenv("BOOTSTRAP_E2E_ARTIFACTS"); d != "" {
		return d
	}
	return filepath.Join(RepoRoot(), "e2e", "_artifacts")
}

// Keep reports whether BOOTSTRAP_E2E_KEEP asks to leave the node running.
func Keep() bool { return truthy(os.Getenv("BOOTSTRAP_E2E_KEEP")) }

func truthy(v string) bool {
	switch strings.ToLower(v) {
	case "1", "true", "yes", "on":
		return true
	}
	return false
}

func envOr(k, def string) string {
	if v := os.Getenv(k); v != "" {
		return v
	}
	return def
}

// HasImage reports whether hack/build-images.sh produced an image with this
// name (hack/_output/images/images.txt). CoreDNS is optional: tests that need
// it call this and skip with an explicit message when it is absent.
func HasImage(ref string) bool {
	b, err := os.ReadFile(filepath.Join(filepath.Dir(BinDir()), "images", "images.txt"))
	if err != nil {
		return false
	}
	for _, l := range strings.Split(string(b), "\n") {
		f := strings.Fields(l)
		if len(f) == 2 {
			for _, r := range strings.Split(f[1], ",") {
				if r == ref {
					return true
				}
			}
		}
	}
	return false
}
