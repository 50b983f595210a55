package v1alpha1

import (
	"fmt"
	"strings"

	"go.yaml.in/yaml/v3"
)

// MarshalDefaults is the output of `bootstrap config print-defaults`: every
// default filled in except the image references, which are derived from
// imageRepository and kubernetesVersion. Printed as values they would pin
// the tags, and bumping kubernetesVersion in the file would keep the old
// images; they are listed as a comment above an empty images field instead.
func MarshalDefaults() ([]byte, error) {
	c := Default()
	var derived ImageOverrides
	defaultImages(&derived, c)
	c.Images = ImageOverrides{}
	lines := []string{
		"Derived from imageRepository and kubernetesVersion (they follow a change of either);",
		"set a field here only to pin or replace one image:",
	}
	for _, kv := range [][2]string{
		{"kubeAPIServer", derived.KubeAPIServer}, {"kubeControllerManager", derived.KubeControllerManager},
		{"kubeScheduler", derived.KubeScheduler}, {"kubeProxy", derived.KubeProxy}, {"etcd", derived.Etcd},
		{"coreDNS", derived.CoreDNS}, {"pause", derived.Pause}, {"bootstrap", derived.Bootstrap},
		{"flannel", FlannelImage + " (networking.cni: flannel)"},
	} {
		lines = append(lines, fmt.Sprintf("  %s: %s", kv[0], kv[1]))
	}
	return marshal(c, func(root *yaml.Node) {
		for i := 0; i+1 < len(root.Content); i += 2 {
			if root.Content[i].Value == "images" {
				root.Content[i].HeadComment = "# " + strings.Join(lines, "\n# ")
			}
		}
	})
}
