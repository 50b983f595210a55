#!/usr/bin/env bash
# Multi-node `make up` (UP_WORKERS > 0) and `make conformance` (CONFORMANCE_WORKERS):
# node 1 runs the control plane (bootstrap start, flannel), nodes 2.. are
# workers joined with `bootstrap token create` + `bootstrap join`, as a user
# adds machines. All are ports of one host bridge (hack/node/env.sh
# multi-node mode). Source it after lib/common.sh.
#
#   MN_PREFIX  netns, node and bridge names (default bsup: bsup1, bsup2, bridge bsup-br)
#   MN_NET     first three octets of the segment (default 10.249.0: host .1, node i .i+1)
#   MN_WORK    work dir prefix (default /var/lib/bootstrap-up/mn: node i gets <prefix>-<i>)
MN_PREFIX="${MN_PREFIX:-bsup}"
MN_NET="${MN_NET:-10.249.0}"
MN_WORK="${MN_WORK:-/var/lib/bootstrap-up/mn}"

# mn_env I: the environment of node I for hack/node/node.sh, one VAR=value a word.
mn_env() {
	local i="$1" work="${MN_WORK}-$1"
	echo "NODE_NAME=${MN_PREFIX}${i} NODE_NETNS=${MN_PREFIX}${i} NODE_IP=${MN_NET}.$((i + 1)) HOST_IP=${MN_NET}.1" \
		"NODE_WORK=${work} STATIC_POD_PATH=${work}/manifests NODE_BRIDGE=${MN_PREFIX}-br NODE_CNI=flannel"
}

# mn_node I CMD...: run CMD (e.g. bash hack/node/node.sh runtime) with node I's environment.
mn_node() {
	local i="$1"; shift
	# shellcheck disable=SC2046
	env $(mn_env "${i}") "$@"
}

# mn_nodes: the nodes of the segment that exist now (a netns or a work dir
# left by a crash), in order.
mn_nodes() {
	local p
	for p in /run/netns/"${MN_PREFIX}"[0-9]* "${MN_WORK}"-[0-9]*; do
		[[ -e "${p}" ]] || continue
		case "${p}" in
		/run/netns/*) echo "${p##*/"${MN_PREFIX}"}" ;;
		*) echo "${p##*-}" ;;
		esac
	done | sort -nu
}

# mn_join_worker ASSET_DIR I: joins node I (runtime up) to the cluster of
# ASSET_DIR as a worker: a token, `bootstrap join` in the node's netns with
# the CA pin, then its kubelet, which TLS-bootstraps with the token.
mn_join_worker() {
	local assets="$1" i="$2" work="${MN_WORK}-$2" tok token server hash
	tok="$("${REPO_ROOT}/bin/bootstrap" token create --asset-dir "${assets}" --ttl 1h -o json)"
	token="$(sed -n 's/.*"token": *"\([^"]*\)".*/\1/p' <<< "${tok}")"
	server="$(sed -n 's/.*"server": *"\([^"]*\)".*/\1/p' <<< "${tok}")"
	hash="$(sed -n 's/.*"caCertHash": *"\([^"]*\)".*/\1/p' <<< "${tok}")"
	[[ -n "${token}" && -n "${server}" && -n "${hash}" ]] || die "bootstrap token create -o json: unexpected output: ${tok}"
	mn_node "${i}" bash "${HACK_DIR}/node/node.sh" node-kubelet-config "${work}/kubelet-node.yaml"
	mn_node "${i}" bash "${HACK_DIR}/node/node.sh" exec -- "${REPO_ROOT}/bin/bootstrap" join \
		--server "${server}" --token "${token}" --discovery-token-ca-cert-hash "${hash}" \
		--kubernetes-dir "${work}/etc/kubernetes" --kubelet-config "${work}/kubelet-config.yaml" \
		--node-kubelet-config "${work}/kubelet-node.yaml"
	mn_node "${i}" KUBELET_BOOTSTRAP_KUBECONFIG="${work}/etc/kubernetes/bootstrap-kubelet.conf" \
		KUBELET_KUBECONFIG="${work}/etc/kubernetes/kubelet.conf" KUBELET_CONFIG="${work}/kubelet-config.yaml" \
		bash "${HACK_DIR}/node/node.sh" kubelet
}
