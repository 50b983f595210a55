#!/usr/bin/env bash
# Shared settings for the hack/ scripts. Source it; do not run it.
# Every value can be overridden from the environment.

HACK_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
REPO_ROOT="$(cd "${HACK_DIR}/.." && pwd)"
OUT_DIR="${BOOTSTRAP_HACK_OUT:-${HACK_DIR}/_output}"
BIN_DIR="${OUT_DIR}/bin"
IMAGES_DIR="${OUT_DIR}/images"

KUBE_VERSION="${KUBE_VERSION:-v1.37.2}"
ETCD_VERSION="${ETCD_VERSION:-v3.7.3}"
COREDNS_VERSION="${COREDNS_VERSION:-v1.15.0}"

log() { printf '[%s] %s\n' "$(date -u +%H:%M:%S)" "$*" >&2; }
die() { log "ERROR: $*"; exit 1; }

# stamp_of FILE... prints a hash of the given files' contents plus the Go
# version, used to decide whether a cached build is still valid.
stamp_of() {
	{ go version; cat "$@"; } | sha256sum | cut -d' ' -f1
}
