#!/usr/bin/env bash
# `make conformance`: the upstream Kubernetes conformance suite (e2e.test of
# k8s.io/kubernetes KUBE_VERSION, built in hack/conformance) against a
# bootstrap-made cluster. Reuses a running `make up` cluster of the selected
# node, or brings one up (hack/up.sh) and tears it down at the end. Builds
# e2e.test, ginkgo and the test images (hack/conformance/images.sh), imports
# them into the node's containerd, and runs the tests from inside the node's
# network namespace (pod and Service IPs are routed only there): the parallel
# part with ginkgo, then the [Serial] tests one at a time. The JUnit reports go
# to e2e/_artifacts/conformance/; the last line is "N passed, N failed, N skipped".
#
# Environment:
#   CONFORMANCE_FOCUS   regex of the tests to run (default '\[Conformance\]';
#                       hack/conformance/subset.txt is the CI subset: CONFORMANCE_FOCUS=subset)
#   CONFORMANCE_SKIP    skip list file (default hack/conformance/skip.txt; each entry has its reason)
#   CONFORMANCE_PROCS   ginkgo processes for the parallel part (default 8)
#   CONFORMANCE_WORKERS worker nodes the cluster it brings up gets (default 1: two nodes,
#                       hack/lib/multinode.sh; 0: make up's one node, and the skip list's
#                       "second node" entries apply)
#   CONFORMANCE_KEEP=1  leave a cluster this script brought up running
#   CONFORMANCE_ARTIFACTS  report dir (default e2e/_artifacts/conformance; emptied first)
#   BOOTSTRAP_E2E_NETNS/_NODE_IP/_HOST_IP/_WORK  another node than the default one
# Exit: 0 all selected tests passed, 1 a test failed (or setup failed).
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib/common.sh"
source "${HACK_DIR}/lib/multinode.sh"
WORKERS="${CONFORMANCE_WORKERS:-1}"
[[ "${WORKERS}" =~ ^[0-9]$ ]] || die "CONFORMANCE_WORKERS=${WORKERS}: want the number of worker nodes, 0-9"
[[ -z "${BOOTSTRAP_E2E_NETNS:-}" ]] || WORKERS=0 # another node than the default ones: one node
if (( WORKERS > 0 )); then
	# shellcheck disable=SC2046
	export $(mn_env 1) # node 1 of the multi-node segment runs the control plane and the tests
fi
export NODE_NETNS="${BOOTSTRAP_E2E_NETNS:-${NODE_NETNS:-bse2e}}"
[[ -z "${BOOTSTRAP_E2E_WORK:-}" ]] || export NODE_WORK="${BOOTSTRAP_E2E_WORK}"
[[ -z "${BOOTSTRAP_E2E_HOST_IP:-}" ]] || export HOST_IP="${BOOTSTRAP_E2E_HOST_IP}"
[[ -z "${BOOTSTRAP_E2E_NODE_IP:-}" ]] || export NODE_IP="${BOOTSTRAP_E2E_NODE_IP}"
source "${HACK_DIR}/node/env.sh"
cd "${REPO_ROOT}"
[[ $(id -u) == 0 ]] || die "make conformance must run as root (it uses the node's network namespace and containerd)"

ART="${CONFORMANCE_ARTIFACTS:-${REPO_ROOT}/e2e/_artifacts/conformance}"
ASSETS="${NODE_WORK}/assets"
KUBECONFIG_FILE="${ASSETS}/auth/admin.kubeconfig"
SKIP_FILE="${CONFORMANCE_SKIP:-${HACK_DIR}/conformance/skip.txt}"
FOCUS="${CONFORMANCE_FOCUS:-\[Conformance\]}"
PROCS="${CONFORMANCE_PROCS:-8}"
NODE_SH=(bash "${HACK_DIR}/node/node.sh")
total_start=${SECONDS}

# skip_regex FILE joins the file's entries ("REGEX  # reason"; blank lines and
# lines starting with # are comments) into one alternation; an entry without
# its reason is an error.
skip_regex() {
	local line re out="" n=0
	while IFS= read -r line || [[ -n "${line}" ]]; do
		[[ -z "${line//[[:space:]]/}" || "${line}" =~ ^[[:space:]]*# ]] && continue
		[[ "${line}" == *" # "?* ]] || die "${1}: entry without a reason (want 'REGEX  # why'): ${line}"
		# A test that needs a second node runs when the cluster has one.
		[[ "${line#* # }" == "second node:"* && ${WORKERS} -gt 0 ]] && continue
		re="${line%% # *}"; re="${re%"${re##*[![:space:]]}"}"
		out+="${out:+|}${re}"; n=$((n + 1))
	done < "$1"
	log "skip list: ${n} entries from ${1}" >&2
	echo "${out}"
}

# subset: CONFORMANCE_FOCUS=subset takes the alternation of subset.txt's entries,
# and the narrower suite that holds only their packages (hack/conformance/subset).
SUITE=e2e.test SUITE_GROUP=conformance
if [[ "${FOCUS}" == subset ]]; then
	SUITE=e2e-subset.test SUITE_GROUP=conformance-subset
	FOCUS="$(grep -v '^[[:space:]]*\(#\|$\)' "${HACK_DIR}/conformance/subset.txt" | sed 's/[[:space:]]*#.*$//' | paste -sd '|')"
	[[ -n "${FOCUS}" ]] || die "hack/conformance/subset.txt has no entries"
fi
SKIP="$(skip_regex "${SKIP_FILE}")"

# ---- packages the test images take from the host
need=()
for p in busybox-static:/bin/busybox bind9-dnsutils:/usr/bin/dig netcat-openbsd:/usr/bin/nc.openbsd curl:/usr/bin/curl iproute2:/usr/bin/ss; do
	[[ -x "${p#*:}" ]] || need+=("${p%%:*}")
done
if [[ ${#need[@]} -gt 0 ]]; then
	log "==== apt-get install ${need[*]} (the test images' tools)"
	DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends "${need[@]}" > /dev/null
fi

# ---- the cluster: a running one of this node, or a fresh `make up`
brought_up=0
cluster_serves() {
	local i
	[[ -f "${KUBECONFIG_FILE}" && -x "${BIN_DIR}/kubectl" ]] || return 1
	for i in 1 2 3; do # a loaded machine answers slowly
		"${NODE_SH[@]}" exec -- "${BIN_DIR}/kubectl" --kubeconfig "${KUBECONFIG_FILE}" --request-timeout 30s \
			get --raw /readyz > /dev/null 2>&1 && return 0
		sleep 5
	done
	return 1
}
if cluster_serves; then
	log "==== reusing the running cluster of node ${NODE_NAME} (netns ${NODE_NETNS}, ${KUBECONFIG_FILE})"
elif [[ -e "/run/netns/${NODE_NETNS}" || -f "${KUBECONFIG_FILE}" ]]; then
	# Never bring a cluster up over a node that exists: it may be someone's.
	die "node ${NODE_NETNS} exists but its cluster does not answer /readyz (${KUBECONFIG_FILE}): fix it, or remove it with make down (same BOOTSTRAP_E2E_* settings) and re-run"
else
	log "==== no cluster serving on netns ${NODE_NETNS}: bringing one up with ${WORKERS} worker node(s) (hack/up.sh)"
	brought_up=1
	UP_WORKERS="${WORKERS}" bash "${HACK_DIR}/up.sh"
fi
teardown() {
	if [[ ${brought_up} == 1 && "${CONFORMANCE_KEEP:-0}" != 1 ]]; then
		log "==== tearing the node(s) down (CONFORMANCE_KEEP=1 keeps them)"
		if (( WORKERS > 0 )); then
			for i in $(mn_nodes | sort -rn); do mn_node "${i}" bash "${HACK_DIR}/node/node.sh" down || true; done
		else
			"${NODE_SH[@]}" down || true
		fi
	fi
}
trap teardown EXIT

# ---- e2e.test, ginkgo, the test images
t=${SECONDS}; bash "${HACK_DIR}/build-binaries.sh" "${SUITE_GROUP}" etcd tools; build_s=$((SECONDS - t))
t=${SECONDS}; CONFORMANCE_SUITE="${SUITE}" bash "${HACK_DIR}/conformance/images.sh"; images_s=$((SECONDS - t))
if (( WORKERS > 0 )); then
	for i in $(mn_nodes); do mn_node "${i}" bash "${HACK_DIR}/node/node.sh" images "${IMAGES_DIR}/conformance"; done
else
	"${NODE_SH[@]}" images "${IMAGES_DIR}/conformance"
fi
"${BIN_DIR}/${SUITE}" --version >&2

# ---- the run
rm -rf "${ART}"; mkdir -p "${ART}"
e2e_flags=(--kubeconfig="${KUBECONFIG_FILE}" --kubectl-path="${BIN_DIR}/kubectl" --provider=skeleton)
ginkgo_flags=(--timeout=4h --output-dir="${ART}" --no-color --poll-progress-after=10m --focus="${FOCUS}")
run_phase() { # NAME GINKGO_FLAGS...
	local name="$1"; shift
	local t=${SECONDS} rc=0
	log "==== ${name}"
	"${NODE_SH[@]}" exec -- "${BIN_DIR}/ginkgo" "${ginkgo_flags[@]}" --junit-report="junit_${name}.xml" "$@" \
		"${BIN_DIR}/${SUITE}" -- "${e2e_flags[@]}" > "${ART}/${name}.log" 2>&1 || rc=$?
	tail -n 30 "${ART}/${name}.log" >&2
	log "${name}: ginkgo exit ${rc} in $((SECONDS - t)) s (log ${ART}/${name}.log)"
}
total_tests="$("${NODE_SH[@]}" exec -- "${BIN_DIR}/ginkgo" --dry-run -v --no-color --focus="${FOCUS}" "${BIN_DIR}/${SUITE}" -- \
	"${e2e_flags[@]}" 2>/dev/null | sed -n 's/^Ran \([0-9]*\) of [0-9]* Specs.*/\1/p' | tail -n1)"
run_start=${SECONDS}
# The framework labels the [Serial] tests "Serial": the parallel part is the
# rest, then the serial ones run alone (two --focus flags would be OR-ed).
run_phase parallel --procs="${PROCS}" --label-filter='!Serial' --skip="\[Serial\]${SKIP:+|${SKIP}}"
run_phase serial --label-filter=Serial ${SKIP:+--skip="${SKIP}"}
run_s=$((SECONDS - run_start))

# ---- figures from the JUnit reports
# Only the tests ("[It] ..."), not the suite's setup nodes, which are test cases too.
count() { cat "${ART}"/junit_parallel.xml "${ART}"/junit_serial.xml 2>/dev/null | grep -c "<testcase name=\"\[It\] [^\"]*\" classname=\"[^\"]*\" status=\"$1\"" || true; }
passed="$(count passed)"; failed=$(( $(count failed) + $(count panicked) + $(count timedout) + $(count interrupted) + $(count aborted) ))
ran=$((passed + failed)); skipped=$(( ${total_tests:-0} - ran ))
grep -h "<testcase name=\"\[It\] .*status=\"\(failed\|panicked\|timedout\|interrupted\|aborted\)\"" "${ART}"/junit_*.xml 2>/dev/null |
	sed -n 's/.*<testcase name="\[It\] \([^"]*\)".*/FAILED: \1/p' | sed 's/&#34;/"/g; s/&#39;/'"'"'/g; s/&amp;/\&/g; s/&lt;/</g; s/&gt;/>/g' >&2 || true
log "conformance (${KUBE_VERSION}, focus ${FOCUS:0:60}): build ${build_s} s, images ${images_s} s, tests ${run_s} s, total $((SECONDS - total_start)) s; JUnit in ${ART}"
echo "${passed} passed, ${failed} failed, ${skipped} skipped (of ${total_tests:-?} selected)"
[[ ${failed} == 0 && ${passed} -gt 0 ]]
