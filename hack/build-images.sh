#!/usr/bin/env bash
# Writes the e2e images (docker-archive tarballs) into hack/_output/images from
# the binaries in hack/_output/bin. Unchanged images are not rewritten.
# Image names come from the environment (defaults = what `bootstrap render`
# writes by default, plus the etcd name kubeadm v1.37.2 wants):
#   KUBE_APISERVER_IMAGE KUBE_CONTROLLER_MANAGER_IMAGE KUBE_SCHEDULER_IMAGE
#   KUBE_PROXY_IMAGE ETCD_IMAGE ETCD_EXTRA_TAGS (space-separated) COREDNS_IMAGE PAUSE_IMAGE
#   FLANNEL_IMAGE (skipped when hack/build-binaries.sh flannel built no flanneld)
#   EXTRA_IMAGES (space-separated ref=binary)
#   BOOTSTRAP_IMAGE (bootstrap's own image, built from ./cmd/bootstrap)
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib/common.sh"

REPO="${IMAGE_REPOSITORY:-registry.k8s.io}"
args=(
	-bin-dir "${BIN_DIR}" -out "${IMAGES_DIR}"
	-kube-apiserver-image "${KUBE_APISERVER_IMAGE:-${REPO}/kube-apiserver:${KUBE_VERSION}}"
	-kube-controller-manager-image "${KUBE_CONTROLLER_MANAGER_IMAGE:-${REPO}/kube-controller-manager:${KUBE_VERSION}}"
	-kube-scheduler-image "${KUBE_SCHEDULER_IMAGE:-${REPO}/kube-scheduler:${KUBE_VERSION}}"
	-kube-proxy-image "${KUBE_PROXY_IMAGE:-${REPO}/kube-proxy:${KUBE_VERSION}}"
	-etcd-image "${ETCD_IMAGE:-${REPO}/etcd:${ETCD_VERSION#v}-0}"
	-coredns-image "${COREDNS_IMAGE:-${REPO}/coredns/coredns:${COREDNS_VERSION}}"
	-pause-image "${PAUSE_IMAGE:-${REPO}/pause:${PAUSE_VERSION}}"
	-testserver-image "${TESTSERVER_IMAGE:-localhost/bootstrap-e2e/testserver:v1}"
	-flannel-image "${FLANNEL_IMAGE:-$(default_of FlannelImage)}"
)
for t in ${ETCD_EXTRA_TAGS:-${REPO}/etcd:3.7.0-0}; do args+=(-etcd-extra-tag "${t}"); done
for e in ${EXTRA_IMAGES:-}; do args+=(-extra "${e}"); done
# bootstrap's own image: the node agents (the control-plane guard) run the
# binary under test, so it is built here, into the same place e2e-setup uses.
(cd "${REPO_ROOT}" && CGO_ENABLED=0 GOFLAGS=-buildvcs=false go build -trimpath -o "${BIN_DIR}/bootstrap" ./cmd/bootstrap)
args+=(-extra "${BOOTSTRAP_IMAGE:-localhost/bootstrap/bootstrap:v0.1.0}=${BIN_DIR}/bootstrap")

[[ -x "${BIN_DIR}/imgtool" ]] || "${HACK_DIR}/build-binaries.sh" tools
start=${SECONDS}
"${BIN_DIR}/imgtool" build "${args[@]}"
# The previous minor's control-plane images (the upgrade scenarios start on
# them) go to their own directory: only the nodes that need them import them
# (node.sh images DIR).
prev_bin="${BIN_DIR}/${KUBE_PREVIOUS_VERSION}"
if [[ -x "${prev_bin}/kube-apiserver" ]]; then
	prev=(-bin-dir "${BIN_DIR}" -out "${IMAGES_DIR}/${KUBE_PREVIOUS_VERSION}" -main=false)
	for c in kube-apiserver kube-controller-manager kube-scheduler kube-proxy; do
		prev+=(-previous "${REPO}/${c}:${KUBE_PREVIOUS_VERSION}=${prev_bin}/${c}")
	done
	"${BIN_DIR}/imgtool" build "${prev[@]}"
else
	log "images: no ${prev_bin}/kube-apiserver (hack/build-binaries.sh k8s-previous); no ${KUBE_PREVIOUS_VERSION} images"
fi
log "images: done in $((SECONDS - start))s -> ${IMAGES_DIR}"
