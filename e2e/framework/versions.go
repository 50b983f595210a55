//go:build e2e

package framework

import "github.com/bootstrap-k8s/bootstrap/pkg/apis/bootstrap/v1alpha1"

// The versions the harness builds and the scenarios expect are the
// configuration defaults (one source; internal/versions checks that hack/
// builds them).
const (
	KubernetesVersion = v1alpha1.DefaultKubernetesVersion
	CoreDNSImage      = v1alpha1.DefaultImageRepository + "/coredns/coredns:" + v1alpha1.CoreDNSVersion
)
