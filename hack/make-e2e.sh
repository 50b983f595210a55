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
#   E2E_CONFORMANCE=0|1      the conformance subset (two nodes) after the tests: default 1,
#                            or 0 when E2E_RUN selects tests
#   E2E_TIMEOUT=60m          go test -timeout
#   BOOTSTRAP_E2E_KEEP=1     leave the node up after the tests (then: hack/node/node.sh down)
#   E2E_GO_TEST_FLAGS=...    extra go test flags (e.g. -v is always on)
#   BOOTSTRAP_E2E_NETNS/_NODE_IP/_HOST_IP/_WORK  run on a second node beside the default one
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib/common.sh"
source "${HACK_DIR}/lib/e2e-setup.sh"
cd "${REPO_ROOT}"
# The conformance subset runs by default, but not in a run of chosen tests (see below).
conformance="${E2E_CONFORMANCE:-}"
[[ -n "${conformance}" ]] || { [[ -z "${E2E_RUN:-}" ]] && conformance=1 || conformance=0; }
[[ "${conformance}" == 0 || "${conformance}" == 1 ]] || die "E2E_CONFORMANCE=${conformance}: want 0 or 1"

total=${SECONDS}
e2e_setup

# Teardown runs whatever happens from here on (test failure, Ctrl-C, a killed go test).
status=1
on_exit() {
	log "==== teardown"
	e2e_teardown_node || log "teardown FAILED: run hack/node/node.sh down"
	if [[ ${status} != 0 ]]; then
		log "e2e FAILED (exit ${status}); logs of failed tests are in e2e/_artifacts/ (see docs/testing.md)"
	fi
	log "make e2e: total $((SECONDS - total))s"
	exit "${status}"
}
trap on_exit EXIT
trap 'status=130; exit 130' INT TERM

log "==== go test -tags e2e ./e2e/..."
status=0
t=${SECONDS}
# shellcheck disable=SC2086
go test -tags e2e -count=1 -p 1 -v -timeout "${E2E_TIMEOUT:-60m}" \
	${E2E_RUN:+-run "${E2E_RUN}"} ${E2E_GO_TEST_FLAGS:-} ./e2e/... || status=$?
log "tests: $((SECONDS - t))s, exit ${status}"

# The conformance subset (hack/conformance/subset.txt, docs/testing.md "Conformance") on two
# nodes of its own after the scenarios: the upstream suite's view of the cluster the scenarios
# do not take (aggregation, webhooks, DNS, Services, exec/logs, a second node). On by default;
# a run of chosen tests (E2E_RUN) leaves it out unless E2E_CONFORMANCE=1. Its cost (≈ 3 min
# warm, ≈ 5 min cold): docs/testing.md.
if [[ "${conformance}" == 1 ]]; then
	log "==== conformance subset (CONFORMANCE_FOCUS=subset make conformance)"
	t=${SECONDS}
	crc=0
	CONFORMANCE_FOCUS=subset CONFORMANCE_PROCS="${CONFORMANCE_PROCS:-4}" bash "${HACK_DIR}/conformance.sh" || crc=$?
	log "conformance subset: $((SECONDS - t))s, exit ${crc}"
	[[ ${crc} == 0 || ${status} != 0 ]] || status=${crc}
fi
