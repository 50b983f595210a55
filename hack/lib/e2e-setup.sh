#!/usr/bin/env bash
# Shared by make-e2e.sh and bench.sh (source it after common.sh): everything a
# real-node run needs before go test, and the final teardown of the node.

# e2e_setup installs the node's packages, builds the binaries (cached by stamp)
# and images, builds ./cmd/bootstrap into BOOTSTRAP_BUILD_OUT (default
# BIN_DIR/bootstrap) and exports it as BOOTSTRAP_E2E_BOOTSTRAP_BIN (+
# BOOTSTRAP_E2E_SKIP_BUILD=1) for the framework.
e2e_setup() {
	[[ $(id -u) == 0 ]] || die "must run as root (containerd, kubelet, network namespaces)"
	command -v go > /dev/null || die "go not found in PATH"
	local t
	log "==== node packages (apt-get, only what is missing)"
	bash "${HACK_DIR}/node/node.sh" deps
	# HAProxy: the load balancer in front of the HA scenario's control plane.
	command -v haproxy > /dev/null || DEBIAN_FRONTEND=noninteractive RUNLEVEL=1 apt-get install -y -q --no-install-recommends haproxy ||
		{ apt-get update -q && DEBIAN_FRONTEND=noninteractive RUNLEVEL=1 apt-get install -y -q --no-install-recommends haproxy; }
	log "==== binaries (cached by stamp under hack/_output)"
	t=${SECONDS}; bash "${HACK_DIR}/build-binaries.sh"; log "binaries: $((SECONDS - t))s"
	log "==== images"
	t=${SECONDS}; bash "${HACK_DIR}/build-images.sh"; log "images: $((SECONDS - t))s"
	log "==== bootstrap binary"
	t=${SECONDS}
	local out="${BOOTSTRAP_BUILD_OUT:-${BIN_DIR}/bootstrap}"
	(cd "${REPO_ROOT}" && CGO_ENABLED=0 go build -o "${out}" ./cmd/bootstrap)
	export BOOTSTRAP_E2E_BOOTSTRAP_BIN="${out}" BOOTSTRAP_E2E_SKIP_BUILD=1
	log "bootstrap: $((SECONDS - t))s"
}

# e2e_teardown_node runs `node.sh down` for the node the BOOTSTRAP_E2E_*
# variables select, under the node lock the e2e framework takes, so a
# concurrent run on the same node is not torn down. BOOTSTRAP_E2E_KEEP=1 keeps it.
e2e_teardown_node() {
	if [[ "${BOOTSTRAP_E2E_KEEP:-0}" == 1 ]]; then
		log "BOOTSTRAP_E2E_KEEP=1: node left up; tear down with: hack/node/node.sh down"
		return 0
	fi
	(
		export NODE_NETNS="${BOOTSTRAP_E2E_NETNS:-${NODE_NETNS:-bse2e}}"
		[[ -z "${BOOTSTRAP_E2E_WORK:-}" ]] || export NODE_WORK="${BOOTSTRAP_E2E_WORK}"
		[[ -z "${BOOTSTRAP_E2E_HOST_IP:-}" ]] || export HOST_IP="${BOOTSTRAP_E2E_HOST_IP}"
		[[ -z "${BOOTSTRAP_E2E_NODE_IP:-}" ]] || export NODE_IP="${BOOTSTRAP_E2E_NODE_IP}"
		source "${HACK_DIR}/node/env.sh"
		flock -w 1800 "/run/lock/bootstrap-e2e-${NODE_NETNS}.lock" bash "${HACK_DIR}/node/node.sh" down
	)
}
