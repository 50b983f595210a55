#!/usr/bin/env bash
# Builds the real Kubernetes, etcd (and, if possible, CoreDNS) binaries the
# e2e harness runs, statically, into hack/_output/bin. A stamp per group makes a
# warm re-run cost seconds; the Go build cache makes a rebuild after a small
# change cheap too.
#
# Usage: hack/build-binaries.sh [k8s] [k8s-kubeadm] [k8s-previous] [k8s-previous-kubeadm] [etcd] [coredns] [flannel] [tools] [conformance] [conformance-subset]
#   (default: all but the two kubeadm groups, which only make bench needs, and
#   conformance, which only make conformance needs)
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib/common.sh"

mkdir -p "${BIN_DIR}" "${OUT_DIR}/stamps"
export CGO_ENABLED=0 GOFLAGS=-buildvcs=false GOWORK=off
NICE=(nice -n 10)

# build_group NAME MODULE_DIR LDFLAGS OUTPUT_NAMES PKG...
# OUTPUT_NAMES is a space-separated list of the binaries expected in BIN_DIR.
build_group() {
	local name="$1" moddir="$2" ldflags="$3" outs="$4"; shift 4
	local stamp_file="${OUT_DIR}/stamps/${name}"
	local want; want="$(stamp_of "${moddir}/go.mod" "${moddir}/go.sum" "${BASH_SOURCE[0]}" <(echo "${ldflags} $*"))"
	local ok=1 b
	for b in ${outs}; do [[ -x "${BIN_DIR}/${b}" ]] || ok=0; done
	if [[ ${ok} == 1 && -f "${stamp_file}" && "$(cat "${stamp_file}")" == "${want}" ]]; then
		log "${name}: up to date (${outs})"
		return 0
	fi
	log "${name}: building ${outs} (cold build of k8s takes ~10 min on 2 cores)"
	local start=${SECONDS}
	rm -f "${stamp_file}"
	# go build with several main packages and -o DIR writes one binary per package.
	mkdir -p "${GROUP_OUT:-${BIN_DIR}}"
	(cd "${moddir}" && "${NICE[@]}" go build -trimpath -ldflags "${ldflags}" -o "${GROUP_OUT:-${BIN_DIR}}/" "$@")
	for b in ${outs}; do [[ -x "${BIN_DIR}/${b}" ]] || die "${name}: ${b} missing after build"; done
	echo "${want}" > "${stamp_file}"
	log "${name}: built in $((SECONDS - start)) s"
}

k8s_ldflags() {
	local v="${1:-${KUBE_VERSION}}" major minor
	major="${v#v}"; major="${major%%.*}"
	minor="${v#v*.}"; minor="${minor%%.*}"
	local f="-s -w" p
	for p in k8s.io/component-base/version k8s.io/client-go/pkg/version; do
		f+=" -X ${p}.gitVersion=${v} -X ${p}.gitMajor=${major} -X ${p}.gitMinor=${minor}"
		f+=" -X ${p}.gitCommit=0000000000000000000000000000000000000000 -X ${p}.gitTreeState=clean"
		f+=" -X ${p}.buildDate=1970-01-01T00:00:00Z"
	done
	echo "${f}"
}

build_k8s() {
	build_group k8s "${HACK_DIR}/k8s" "$(k8s_ldflags)" \
		"kubelet kube-apiserver kube-controller-manager kube-scheduler kube-proxy kubectl" \
		k8s.io/kubernetes/cmd/kubelet k8s.io/kubernetes/cmd/kube-apiserver \
		k8s.io/kubernetes/cmd/kube-controller-manager k8s.io/kubernetes/cmd/kube-scheduler \
		k8s.io/kubernetes/cmd/kube-proxy k8s.io/kubernetes/cmd/kubectl
}

# kubeadm, the bench's baseline only (make bench builds it; make e2e does
# not need it: its own packages and link cost minutes on a cold cache).
build_k8s_kubeadm() {
	build_group k8s-kubeadm "${HACK_DIR}/k8s" "$(k8s_ldflags)" kubeadm k8s.io/kubernetes/cmd/kubeadm
}

# The previous minor's binaries, in their own directory: the upgrade
# scenarios start a cluster on them and move it to KUBE_VERSION.
build_k8s_previous() {
	local v="${KUBE_PREVIOUS_VERSION}" b outs=""
	for b in kubelet kube-apiserver kube-controller-manager kube-scheduler kube-proxy; do outs+="${v}/${b} "; done
	GROUP_OUT="${BIN_DIR}/${v}" build_group k8s-previous "${HACK_DIR}/k8s-previous" "$(k8s_ldflags "${v}")" "${outs% }" \
		k8s.io/kubernetes/cmd/kubelet k8s.io/kubernetes/cmd/kube-apiserver \
		k8s.io/kubernetes/cmd/kube-controller-manager k8s.io/kubernetes/cmd/kube-scheduler \
		k8s.io/kubernetes/cmd/kube-proxy
}

# The previous minor's kubeadm, for the bench's `kubeadm upgrade` baseline
# only (make bench builds it; make e2e does not need it: ~3 min saved cold).
build_k8s_previous_kubeadm() {
	local v="${KUBE_PREVIOUS_VERSION}"
	GROUP_OUT="${BIN_DIR}/${v}" build_group k8s-previous-kubeadm "${HACK_DIR}/k8s-previous" "$(k8s_ldflags "${v}")" "${v}/kubeadm" \
		k8s.io/kubernetes/cmd/kubeadm
}

build_etcd() {
	# The etcd main package is the server module itself; its binary name would be
	# "v3", so build each one to an explicit name.
	local stamp_file="${OUT_DIR}/stamps/etcd"
	local ldflags="-s -w"
	local want; want="$(stamp_of "${HACK_DIR}/etcd/go.mod" "${HACK_DIR}/etcd/go.sum" "${BASH_SOURCE[0]}")"
	if [[ -x "${BIN_DIR}/etcd" && -x "${BIN_DIR}/etcdctl" && -x "${BIN_DIR}/etcdutl" && -f "${stamp_file}" && "$(cat "${stamp_file}")" == "${want}" ]]; then
		log "etcd: up to date (etcd etcdctl etcdutl)"
		return 0
	fi
	log "etcd: building etcd etcdctl etcdutl"
	local start=${SECONDS} pair
	rm -f "${stamp_file}"
	for pair in etcd=go.etcd.io/etcd/server/v3 etcdctl=go.etcd.io/etcd/etcdctl/v3 etcdutl=go.etcd.io/etcd/etcdutl/v3; do
		(cd "${HACK_DIR}/etcd" && "${NICE[@]}" go build -trimpath -ldflags "${ldflags}" -o "${BIN_DIR}/${pair%%=*}" "${pair#*=}")
	done
	echo "${want}" > "${stamp_file}"
	log "etcd: built in $((SECONDS - start)) s"
}

build_coredns() {
	if [[ ! -f "${HACK_DIR}/coredns/go.mod" ]]; then
		log "coredns: no hack/coredns module; skipping (e2e treats CoreDNS as absent)"
		return 0
	fi
	local stamp_file="${OUT_DIR}/stamps/coredns"
	local want; want="$(stamp_of "${HACK_DIR}/coredns/go.mod" "${HACK_DIR}/coredns/go.sum" "${HACK_DIR}/coredns/main.go" "${BASH_SOURCE[0]}")"
	if [[ -x "${BIN_DIR}/coredns" && -f "${stamp_file}" && "$(cat "${stamp_file}")" == "${want}" ]]; then
		log "coredns: up to date"
		return 0
	fi
	log "coredns: building"
	local start=${SECONDS}
	rm -f "${stamp_file}"
	if ! (cd "${HACK_DIR}/coredns" && "${NICE[@]}" go build -trimpath -ldflags "-s -w" -o "${BIN_DIR}/coredns" .); then
		log "coredns: BUILD FAILED; e2e treats CoreDNS as absent"
		rm -f "${BIN_DIR}/coredns"
		return 0
	fi
	# hack/coredns/main.go has a chosen list of plugins: each directive of
	# the Corefile bootstrap renders must be among them.
	local plugins d
	plugins="$("${BIN_DIR}/coredns" -plugins)"
	for d in $(sed -n 's/^    \([a-z0-9_]*\).*/\1/p' "${REPO_ROOT}/manifests/Corefile.tmpl"); do
		grep -qE "^[[:space:]]*(dns\.)?${d}$" <<<"${plugins}" ||
			die "coredns: the Corefile's plugin ${d} is not in hack/coredns/main.go's list (coredns -plugins: ${plugins//$'\n'/ })"
	done
	echo "${want}" > "${stamp_file}"
	log "coredns: built in $((SECONDS - start)) s"
}

# flanneld (hack/flannel: flannel's main package minus two backends, see
# hack/flannel/gen-main.sh) and the flannel CNI plugin (hack/flannel-cni), for
# the flannel image. Optional like CoreDNS: the multi-node scenarios skip
# with a message without them.
build_flannel() {
	local stamp_file="${OUT_DIR}/stamps/flannel" want v
	want="$(stamp_of "${HACK_DIR}/flannel/go.mod" "${HACK_DIR}/flannel/go.sum" "${HACK_DIR}/flannel/main.go" \
		"${HACK_DIR}/flannel-cni/go.mod" "${HACK_DIR}/flannel-cni/go.sum" "${BASH_SOURCE[0]}")"
	if [[ -x "${BIN_DIR}/flanneld" && -x "${BIN_DIR}/flannel-cni-plugin" && -f "${stamp_file}" && "$(cat "${stamp_file}")" == "${want}" ]]; then
		log "flannel: up to date (flanneld flannel-cni-plugin)"
		return 0
	fi
	log "flannel: building flanneld and the flannel CNI plugin (cold: a few minutes)"
	local start=${SECONDS}
	rm -f "${stamp_file}"
	v="$(cd "${HACK_DIR}/flannel" && go list -m -f '{{.Version}}' github.com/flannel-io/flannel)"
	if ! (cd "${HACK_DIR}/flannel" && "${NICE[@]}" go build -trimpath -ldflags "-s -w -X github.com/flannel-io/flannel/pkg/version.Version=${v}" -o "${BIN_DIR}/flanneld" .) ||
		! (cd "${HACK_DIR}/flannel-cni" && "${NICE[@]}" go build -trimpath -ldflags "-s -w" -o "${BIN_DIR}/flannel-cni-plugin" github.com/containernetworking/plugins/plugins/meta/flannel); then
		log "flannel: BUILD FAILED; the multi-node scenarios skip"
		rm -f "${BIN_DIR}/flanneld" "${BIN_DIR}/flannel-cni-plugin"
		return 0
	fi
	echo "${want}" > "${stamp_file}"
	log "flannel: built in $((SECONDS - start)) s"
}

build_tools() {
	# Small harness programs (image tool, pause, CRI cleanup, test workload).
	local stamp_file="${OUT_DIR}/stamps/tools" want b ok=1
	want="$(stamp_of "${BASH_SOURCE[0]}" $(find "${HACK_DIR}/tools" -type f \( -name '*.go' -o -name go.mod -o -name go.sum \) | sort))"
	for b in imgtool pause cricleanup testserver cp; do [[ -x "${BIN_DIR}/${b}" ]] || ok=0; done
	if [[ ${ok} == 1 && -f "${stamp_file}" && "$(cat "${stamp_file}")" == "${want}" ]]; then
		log "tools: up to date (imgtool pause cricleanup testserver cp)"
		return 0
	fi
	log "tools: building imgtool, pause, cricleanup, testserver, cp"
	(cd "${HACK_DIR}/tools" && go build -trimpath -ldflags "-s -w" -o "${BIN_DIR}/" ./imgtool ./pause ./cricleanup ./testserver ./cp)
	echo "${want}" > "${stamp_file}"
}

# The upstream conformance suite (hack/conformance, not in the default groups:
# only `make conformance` needs it): e2e.test is `go test -c` of test/e2e with
# the k8s group's -trimpath and version ldflags, so it shares that group's
# build cache and reports KUBE_VERSION; ginkgo runs it in parallel; agnhost,
# sample-apiserver and nonewprivs are the programs of the test images
# (hack/conformance/images.sh).
build_conformance() {
	build_conformance_suite conformance e2e.test k8s.io/kubernetes/test/e2e
}

# The CI subset's narrower suite (hack/conformance/subset): the same main with
# only the subset's test packages, so that a cold build fits CI's budget.
build_conformance_subset() {
	build_conformance_suite conformance-subset e2e-subset.test ./subset
}

# build_conformance_suite GROUP BINARY PACKAGE: ginkgo, the test images'
# programs and the suite BINARY (`go test -c` of PACKAGE in hack/conformance).
build_conformance_suite() {
	local group="$1" suite="$2" pkg="$3"
	local moddir="${HACK_DIR}/conformance" ldflags stamp_file="${OUT_DIR}/stamps/${group}" want b ok=1
	local outs="${suite} ginkgo agnhost sample-apiserver nonewprivs"
	ldflags="$(k8s_ldflags)"
	want="$(stamp_of "${moddir}/go.mod" "${moddir}/go.sum" "${moddir}/subset/subset_test.go" "${BASH_SOURCE[0]}" <(echo "${ldflags}"))"
	for b in ${outs}; do [[ -x "${BIN_DIR}/${b}" ]] || ok=0; done
	if [[ ${ok} == 1 && -f "${stamp_file}" && "$(cat "${stamp_file}")" == "${want}" ]]; then
		log "${group}: up to date (${outs})"
		return 0
	fi
	log "${group}: building ${outs} (cold: the ${suite} link alone takes minutes on 2 cores)"
	local start=${SECONDS}
	rm -f "${stamp_file}"
	(cd "${moddir}" && "${NICE[@]}" go build -trimpath -ldflags "${ldflags}" -o "${BIN_DIR}/" \
		github.com/onsi/ginkgo/v2/ginkgo k8s.io/kubernetes/test/images/agnhost k8s.io/sample-apiserver \
		k8s.io/kubernetes/test/images/nonewprivs)
	(cd "${moddir}" && "${NICE[@]}" go test -c -vet=off -trimpath -ldflags "${ldflags}" -o "${BIN_DIR}/${suite}" "${pkg}")
	for b in ${outs}; do [[ -x "${BIN_DIR}/${b}" ]] || die "${group}: ${b} missing after build"; done
	echo "${want}" > "${stamp_file}"
	log "${group}: built in $((SECONDS - start)) s"
}

groups=("$@")
[[ ${#groups[@]} -gt 0 ]] || groups=(k8s k8s-previous etcd coredns flannel tools)
for g in "${groups[@]}"; do
	case "${g}" in
	k8s) build_k8s ;;
	k8s-kubeadm) build_k8s_kubeadm ;;
	k8s-previous) build_k8s_previous ;;
	k8s-previous-kubeadm) build_k8s_previous_kubeadm ;;
	etcd) build_etcd ;;
	coredns) build_coredns ;;
	flannel) build_flannel ;;
	tools) build_tools ;;
	conformance) build_conformance ;;
	conformance-subset) build_conformance_subset ;;
	*) die "unknown group ${g}" ;;
	esac
done
