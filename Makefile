# bootstrap — build and test entry points. `make test` needs no root;
# `make e2e` needs root and installs what the machine lacks (see docs/testing.md).
SHELL := /usr/bin/env bash
GO ?= go
VERSION ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo v0.0.0-dev)
LDFLAGS := -s -w -X github.com/bootstrap-k8s/bootstrap/pkg/version.Version=$(VERSION)

.PHONY: all build test test-short vet generate verify-generate e2e bench up down conformance bench-render clean

all: build

build:
	CGO_ENABLED=0 $(GO) build -trimpath -ldflags '$(LDFLAGS)' -o bin/bootstrap ./cmd/bootstrap

# Unit and integration tests: real embedded etcd and the real temporary
# apiserver in-process; no root.
test: vet
	$(GO) test -count=1 ./...

test-short:
	$(GO) test -short ./...

vet:
	$(GO) mod download
	$(GO) vet ./...
	@out=$$(gofmt -l $$(git ls-files '*.go')); if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi

# OpenAPI definitions of the temporary apiserver (checked in; a test fails when
# stale) and Kubernetes' default RBAC policy, from k8s.io/kubernetes in the
# hack/k8s module (pkg/defaultrbac; the product must not import it).
DEFAULT_RBAC := pkg/defaultrbac/policy-v1.37.yaml
generate:
	$(GO) generate ./pkg/tempcontrolplane/openapi
	cd hack/k8s && $(GO) run ./gen-default-rbac > ../../$(DEFAULT_RBAC).tmp && mv ../../$(DEFAULT_RBAC).tmp ../../$(DEFAULT_RBAC)

verify-generate:
	$(GO) test ./pkg/tempcontrolplane/openapi -run TestGeneratedIsFresh
	cd hack/k8s && $(GO) run ./gen-default-rbac | diff -u ../../$(DEFAULT_RBAC) - || { echo "$(DEFAULT_RBAC) is stale: make generate"; exit 1; }

# Real-node end-to-end tests: containerd, a real kubelet, locally built
# Kubernetes images. Root only.
e2e: build
	bash hack/make-e2e.sh

# bootstrap render + start against kubeadm init on the same real node,
# alternating, fresh node per run (docs/benchmarks.md). Root only. BENCH_RUNS=3.
# Table on stderr, one JSON line on stdout.
bench:
	@bash hack/bench.sh

# A one-node self-hosted cluster on this machine (root): the quick start.
# UP_WORKERS=N adds N worker nodes joined with `bootstrap join` (flannel).
up: build
	bash hack/up.sh

down:
	bash hack/down.sh

# The upstream Kubernetes conformance suite against a bootstrap cluster (root):
# reuses the running `make up` cluster or brings one up (and down). Skips only
# what hack/conformance/skip.txt lists, with its reason; CONFORMANCE_FOCUS=subset
# runs the short subset (hack/conformance/subset.txt). docs/testing.md, "Conformance".
conformance: build
	bash hack/conformance.sh

bench-render:
	$(GO) test -run '^$$' -bench BenchmarkRender -benchtime 20x ./pkg/assets

clean:
	rm -rf bin
