#!/usr/bin/env bash
# Shared settings for the hack/ scripts. Source it; do not run it.
# Every value can be overridden from the environment.

HACK_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
REPO_ROOT="$(cd "${HACK_DIR}/.." && pwd)"
OUT_DIR="${BOOTSTRAP_HACK_OUT:-${HACK_DIR}/_output}"
BIN_DIR="${OUT_DIR}/bin"
IMAGES_DIR="${OUT_DIR}/images"

# The versions of the built components come from one source, the
# configuration defaults (what `bootstrap render` writes by default);
# internal/versions' test checks that hack/{k8s,etcd,coredns}/go.mod build them.
DEFAULTS_GO="${REPO_ROOT}/pkg/apis/bootstrap/v1alpha1/defaults.go"
default_of() { sed -n "s/^[[:space:]]*$1[[:space:]]*= \"\(.*\)\"/\1/p" "${DEFAULTS_GO}"; }
KUBE_VERSION="${KUBE_VERSION:-$(default_of DefaultKubernetesVersion)}"
# The previous minor (upgrade scenarios start there): its binaries live in
# ${BIN_DIR}/${KUBE_PREVIOUS_VERSION}/, built from hack/k8s-previous.
KUBE_PREVIOUS_VERSION="${KUBE_PREVIOUS_VERSION:-$(default_of PreviousKubernetesVersion)}"
ETCD_VERSION="${ETCD_VERSION:-v$(default_of EtcdVersion)}"
COREDNS_VERSION="${COREDNS_VERSION:-$(default_of CoreDNSVersion)}"
PAUSE_VERSION="${PAUSE_VERSION:-$(default_of PauseVersion)}"
[[ -n "${KUBE_VERSION}" && "${ETCD_VERSION}" != v && -n "${COREDNS_VERSION}" && -n "${PAUSE_VERSION}" ]] ||
	{ printf 'cannot read the component versions from %s\n' "${DEFAULTS_GO}" >&2; exit 1; }

log() { printf '[%s] %s\n' "$(date -u +%H:%M:%S)" "$*" >&2; }
die() { log "ERROR: $*"; exit 1; }

# stamp_of FILE... prints a hash of the given files' contents plus the Go
# version, used to decide whether a cached build is still valid.
stamp_of() {
	{ go version; cat "$@"; } | sha256sum | cut -d' ' -f1
}
