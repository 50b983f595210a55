// Package versions holds only a test: that the components hack/ builds for
// the e2e node (hack/k8s, hack/etcd, hack/coredns) are the versions the
// configuration defaults name. The defaults in pkg/apis/bootstrap/v1alpha1
// are the one source: hack/lib/common.sh reads them, the e2e tests use the
// constants.
package versions
