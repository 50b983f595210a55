package versions

import (
	"os"
	"regexp"
	"strings"
	"testing"

	"github.com/bootstrap-k8s/bootstrap/pkg/apis/bootstrap/v1alpha1"
)

func TestHackBuildsTheDefaultVersions(t *testing.T) {
	for _, tc := range []struct{ gomod, module, want string }{
		{"../../hack/k8s/go.mod", "k8s.io/kubernetes", v1alpha1.DefaultKubernetesVersion},
		{"../../hack/k8s-previous/go.mod", "k8s.io/kubernetes", v1alpha1.PreviousKubernetesVersion},
		// The conformance suite (make conformance) tests the default version.
		{"../../hack/conformance/go.mod", "k8s.io/kubernetes", v1alpha1.DefaultKubernetesVersion},
		{"../../hack/etcd/go.mod", "go.etcd.io/etcd/server/v3", "v" + v1alpha1.EtcdVersion},
		{"../../hack/coredns/go.mod", "github.com/coredns/coredns", v1alpha1.CoreDNSVersion},
		// The flannel image's tag is the flanneld version hack/flannel builds.
		{"../../hack/flannel/go.mod", "github.com/flannel-io/flannel", v1alpha1.FlannelImage[strings.LastIndex(v1alpha1.FlannelImage, ":")+1:]},
	} {
		data, err := os.ReadFile(tc.gomod)
		if err != nil {
			t.Fatal(err)
		}
		m := regexp.MustCompile(`(?m)^\s*(?:require\s+)?` + regexp.QuoteMeta(tc.module) + `\s+(v\S+)`).FindSubmatch(data)
		if m == nil {
			t.Errorf("%s does not require %s", tc.gomod, tc.module)
			continue
		}
		if got := string(m[1]); got != tc.want {
			t.Errorf("%s builds %s %s, but the configuration defaults name %s: change both together", tc.gomod, tc.module, got, tc.want)
		}
	}
}
