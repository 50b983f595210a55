//go:build e2e

package framework

import "github.com/bootstrap-k8s/bootstrap/pkg/apis/bootstrap/v1alpha1"

// The versions the harness builds and the scenarios expect are the
// configuration defaults (one source; internal/versions checks that hack/
// builds them).
const (
	KubernetesVersion = v1alpha1.DefaultKubernetesVersion
	// PreviousVersion is the minor the upgrade scenarios start on; its
	// binaries are in BinDir()/PreviousVersion, its images in
	// hack/_output/images/PreviousVersion.
	PreviousVersion = v1alpha1.PreviousKubernetesVersion
	CoreDNSImage    = v1alpha1.DefaultImageRepository + "/coredns/coredns:" + v1alpha1.CoreDNSVersion
	// PauseImage is the sandbox image the node's containerd uses.
	PauseImage = v1alpha1.DefaultImageRepository + "/pause:" + v1alpha1.PauseVersion
)
