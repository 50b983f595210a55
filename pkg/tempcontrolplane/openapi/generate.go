package openapi

// Packages lists the Go packages whose types get definitions; keep it in sync
// with the go:generate line below (TestGeneratedIsFresh runs the generator
// with this list).
var Packages = []string{
	"k8s.io/api/core/v1",
	"k8s.io/api/apps/v1",
	"k8s.io/api/coordination/v1",
	"k8s.io/api/storage/v1",
	"k8s.io/api/node/v1",
	"k8s.io/api/rbac/v1",
	"k8s.io/api/policy/v1",
	"k8s.io/api/scheduling/v1",
	"k8s.io/api/discovery/v1",
	"k8s.io/api/events/v1",
	"k8s.io/api/autoscaling/v1",
	"k8s.io/apimachinery/pkg/apis/meta/v1",
	"k8s.io/apimachinery/pkg/runtime",
	"k8s.io/apimachinery/pkg/util/intstr",
	"k8s.io/apimachinery/pkg/api/resource",
	"k8s.io/apimachinery/pkg/version",
}

//go:generate go run k8s.io/kube-openapi/cmd/openapi-gen --go-header-file boilerplate.go.txt --output-dir . --output-pkg github.com/bootstrap-k8s/bootstrap/pkg/tempcontrolplane/openapi --output-file zz_generated.openapi.go --report-filename /dev/null k8s.io/api/core/v1 k8s.io/api/apps/v1 k8s.io/api/coordination/v1 k8s.io/api/storage/v1 k8s.io/api/node/v1 k8s.io/api/rbac/v1 k8s.io/api/policy/v1 k8s.io/api/scheduling/v1 k8s.io/api/discovery/v1 k8s.io/api/events/v1 k8s.io/api/autoscaling/v1 k8s.io/apimachinery/pkg/apis/meta/v1 k8s.io/apimachinery/pkg/runtime k8s.io/apimachinery/pkg/util/intstr k8s.io/apimachinery/pkg/api/resource k8s.io/apimachinery/pkg/version
