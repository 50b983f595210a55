// Package version says which bootstrap this is and which component versions
// it renders by default. Version is set at build time:
//
//	go build -ldflags "-X github.com/bootstrap-k8s/bootstrap/pkg/version.Version=v0.1.0" ./cmd/bootstrap
package version

import (
	"runtime"

	"github.com/bootstrap-k8s/bootstrap/pkg/apis/bootstrap/v1alpha1"
)

// Version of bootstrap itself.
var Version = "v0.0.0-dev"

// Info is what `bootstrap version` prints.
type Info struct {
	Bootstrap         string `json:"bootstrap"`
	KubernetesVersion string `json:"kubernetesVersion"`
	EtcdVersion       string `json:"etcdVersion"`
	GoVersion         string `json:"goVersion"`
	Platform          string `json:"platform"`
}

// Get returns the build's version information.
func Get() Info {
	return Info{
		Bootstrap:         Version,
		KubernetesVersion: v1alpha1.DefaultKubernetesVersion,
		EtcdVersion:       v1alpha1.EtcdVersion,
		GoVersion:         runtime.Version(),
		Platform:          runtime.GOOS + "/" + runtime.GOARCH,
	}
}
