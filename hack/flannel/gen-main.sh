#!/usr/bin/env bash
# Writes main.go: flanneld's main package of the flannel version this module
# requires, without two backends: tencentvpc (its cloud SDK module is not
# available to this build) and udp (cgo on amd64; deprecated upstream). The
# e2e uses vxlan. Run after changing the flannel version in go.mod.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")"
export GOWORK=off GOFLAGS=-mod=mod
v="$(go list -m -f '{{.Version}}' github.com/flannel-io/flannel)"
dir="$(go list -m -f '{{.Dir}}' github.com/flannel-io/flannel)"
{
	echo "// Code generated from github.com/flannel-io/flannel ${v} main.go (Apache-2.0,"
	echo '// copyright flannel authors); only the imports of two backends are dropped:'
	echo '// tencentvpc (its cloud SDK module is not available to this build) and udp'
	echo '// (cgo on amd64, deprecated upstream). The e2e uses vxlan.'
	echo '// Regenerate with hack/flannel/gen-main.sh after changing the version in go.mod.'
	echo
	sed -e '/pkg\/backend\/tencentvpc"/d' -e '/pkg\/backend\/udp"/d' "${dir}/main.go"
} > main.go
