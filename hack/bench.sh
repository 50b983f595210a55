#!/usr/bin/env bash
# `make bench`: bootstrap render + start (A) against kubeadm init (B) on the
# same real harness node, alternating A B A B ..., a fresh node for each run,
# then one `bootstrap recover` (docs/benchmarks.md). Root only.
#
# Output: go test's log and a human table on stderr; ONE JSON line on stdout,
# last. The files stay in BENCH_OUT (table.txt, result.json, runs.json).
#
# Environment:
#   BENCH_RUNS=3             runs of each kind
#   BENCH_OUT=dir            where results go (default e2e/_artifacts/bench)
#   BENCH_TIMEOUT=60m        go test -timeout
#   BOOTSTRAP_HACK_OUT=dir   binaries/images of another checkout (e.g. to bench a clean clone of
#                            HEAD with the warm hack/_output of the working copy)
#   BOOTSTRAP_E2E_NETNS/_NODE_IP/_HOST_IP/_WORK  run on a second node beside the default one
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib/common.sh"
source "${HACK_DIR}/lib/e2e-setup.sh"
cd "${REPO_ROOT}"

export BENCH_RUNS="${BENCH_RUNS:-3}"
export BENCH_OUT="${BENCH_OUT:-${REPO_ROOT}/e2e/_artifacts/bench}"
# Its own bootstrap binary: a concurrent `make e2e` keeps using BIN_DIR/bootstrap.
export BOOTSTRAP_BUILD_OUT="${BOOTSTRAP_BUILD_OUT:-${OUT_DIR}/bench/bootstrap}"
total=${SECONDS}
e2e_setup >&2
# The kubeadm baselines (init, and upgrade from the previous minor) need their kubeadm.
bash "${HACK_DIR}/build-binaries.sh" k8s-kubeadm k8s-previous-kubeadm >&2

rm -f "${BENCH_OUT}/result.json" "${BENCH_OUT}/table.txt"
status=0
# Every run tears its node down; after a failure or a crash, once more to be sure.
trap '[[ ${status} == 0 ]] || e2e_teardown_node >&2 || log "teardown FAILED: run hack/node/node.sh down"' EXIT
trap 'status=130; exit 130' INT TERM
log "==== go test -tags 'e2e bench' -run TestBench ./e2e/bench (BENCH_RUNS=${BENCH_RUNS})"
go test -tags 'e2e bench' -run TestBench -count=1 -v -timeout "${BENCH_TIMEOUT:-60m}" ./e2e/bench >&2 || status=$?
log "make bench: total $((SECONDS - total))s, go test exit ${status}; measured: $(cd "${REPO_ROOT}" && git describe --always --dirty 2>/dev/null)"
if [[ -f "${BENCH_OUT}/table.txt" ]]; then
	echo >&2
	cat "${BENCH_OUT}/table.txt" >&2
fi
if [[ -f "${BENCH_OUT}/result.json" ]]; then
	cat "${BENCH_OUT}/result.json"
else
	log "no results in ${BENCH_OUT}"
	[[ ${status} != 0 ]] || status=1
fi
exit "${status}"
