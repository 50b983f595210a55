#!/usr/bin/env bash
# `make e2e`: from a clean clone on a fresh Debian machine with only Go, as
# root: install the node's packages, build the real binaries (cached) and the
# images, run the e2e tests (go test -tags e2e ./e2e/...) and tear the node
# down — also when the tests fail. Cold: ~15-20 min on 2 cores (the k8s build
# dominates); warm: the tests plus seconds.
#
# -p 1: packages share the node, and with one package at a time go test streams -v output.
#
# Environment:
#   E2E_RUN=regex            only run matching tests (go test -run)
#   E2E_TIMEOUT=40m          go test -timeout
#   BOOTSTRAP_E2E_KEEP=1     leave the node up after the tests (then: hack/node/node.sh down)
#   E2E_GO_TEST_FLAGS=...    extra go test flags (e.g. -v is always on)
#   BOOTSTRAP_E2E_NETNS/_NODE_IP/_HOST_IP/_WORK  run on a second node beside the default one
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib/common.sh"
cd "${REPO_ROOT}"

[[ $(id -u) == 0 ]] || die "make e2e must run as root (containerd, kubelet, network namespaces)"
command -v go > /dev/null || die "go not found in PATH"

total=${SECONDS}
step() { log "==== $*"; }

step "1/5 node packages (apt-get, only what is missing)"
bash hack/node/node.sh deps

step "2/5 binaries (cached by stamp under hack/_output)"
t=${SECONDS}; bash hack/build-binaries.sh; log "binaries: $((SECONDS - t))s"

step "3/5 images"
t=${SECONDS}; bash hack/build-images.sh; log "images: $((SECONDS - t))s"

step "3b/5 bootstrap binary"
t=${SECONDS}
CGO_ENABLED=0 go build -o "${BIN_DIR}/bootstrap" ./cmd/bootstrap
export BOOTSTRAP_E2E_BOOTSTRAP_BIN="${BIN_DIR}/bootstrap"
log "bootstrap: $((SECONDS - t))s"

# Teardown runs whatever happens from here on (test failure, Ctrl-C, a killed go test).
teardown() {
	step "5/5 teardown"
	if [[ "${BOOTSTRAP_E2E_KEEP:-0}" == 1 ]]; then
		log "BOOTSTRAP_E2E_KEEP=1: node left up; tear down with: hack/node/node.sh down"
		return 0
	fi
	# Under the node lock the e2e framework takes, so a concurrent run is not torn down.
	(
		export NODE_NETNS="${BOOTSTRAP_E2E_NETNS:-${NODE_NETNS:-bse2e}}"
		[[ -z "${BOOTSTRAP_E2E_WORK:-}" ]] || export NODE_WORK="${BOOTSTRAP_E2E_WORK}"
		[[ -z "${BOOTSTRAP_E2E_HOST_IP:-}" ]] || export HOST_IP="${BOOTSTRAP_E2E_HOST_IP}"
		source hack/node/env.sh
		flock -w 1800 "/run/lock/bootstrap-e2e-${NODE_NETNS}.lock" bash hack/node/node.sh down
	)
}
status=1
on_exit() {
	teardown || log "teardown FAILED: run hack/node/node.sh down"
	if [[ ${status} != 0 ]]; then
		log "e2e FAILED (exit ${status}); logs of failed tests are in e2e/_artifacts/ (see docs/testing.md)"
	fi
	log "make e2e: total $((SECONDS - total))s"
	exit "${status}"
}
trap on_exit EXIT
trap 'status=130; exit 130' INT TERM

step "4/5 go test -tags e2e ./e2e/..."
status=0
t=${SECONDS}
# shellcheck disable=SC2086
BOOTSTRAP_E2E_SKIP_BUILD=1 go test -tags e2e -count=1 -p 1 -v -timeout "${E2E_TIMEOUT:-40m}" \
	${E2E_RUN:+-run "${E2E_RUN}"} ${E2E_GO_TEST_FLAGS:-} ./e2e/... || status=$?
log "tests: $((SECONDS - t))s, exit ${status}"
