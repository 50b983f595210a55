//go:build tools

// Package tools pins the code generators that `make generate` runs and the
// core dependencies every package shares, so that `go mod tidy` run by one
// package's author never drops another's dependency or changes its version.
package tools

import (
	_ "github.com/spf13/cobra"
	_ "go.etcd.io/etcd/client/v3/snapshot"
	_ "go.etcd.io/etcd/etcdutl/v3/snapshot"
	_ "go.etcd.io/etcd/server/v3/embed"
	_ "k8s.io/apiserver/pkg/server"
	_ "k8s.io/client-go/dynamic"
	_ "k8s.io/client-go/kubernetes"
	_ "k8s.io/component-base/version"
	_ "k8s.io/kube-openapi/cmd/openapi-gen"
)
