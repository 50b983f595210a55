#!/usr/bin/env bash
# `make up`: as root on this kind of machine, bring up a one-node self-hosted
# cluster the way a user would: build, start the node (containerd + kubelet in
# a network namespace of their own), `bootstrap render` with defaults, run
# `bootstrap start`, and print how to use it. `make down` removes it all.
#
# UP_WORKERS=N (default 0): N more nodes, joined as workers with `bootstrap
# token create` + `bootstrap join`; all nodes on one host bridge, flannel as
# the CNI (hack/lib/multinode.sh: node 1 is bsup1 at 10.249.0.2, ...).
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib/common.sh"
source "${HACK_DIR}/lib/multinode.sh"
UP_WORKERS="${UP_WORKERS:-0}"
[[ "${UP_WORKERS}" =~ ^[0-9]$ ]] || die "UP_WORKERS=${UP_WORKERS}: want the number of worker nodes, 0-9 (0: one node)"
render_flags=()
if (( UP_WORKERS > 0 )); then
	# Node 1's settings for the rest of this script (and node.sh it runs).
	# shellcheck disable=SC2046
	export $(mn_env 1)
	render_flags=(--cni=flannel)
fi
source "${HACK_DIR}/node/env.sh"
cd "${REPO_ROOT}"
[[ $(id -u) == 0 ]] || die "make up must run as root (containerd, kubelet, network namespace)"

ASSETS="${NODE_WORK}/assets"
bash hack/node/node.sh deps
bash hack/build-binaries.sh
bash hack/build-images.sh
bash hack/node/node.sh runtime

mkdir -p "${NODE_WORK}"
cat > "${NODE_WORK}/cluster.yaml" <<YAML
apiVersion: config.bootstrap.dev/v1alpha1
kind: BootstrapConfiguration
apiServer:
  advertiseAddress: ${NODE_IP}
node:
  name: ${NODE_NAME}
  staticPodPath: ${STATIC_POD_PATH}
etcd:
  local:
    dataDir: ${NODE_WORK}/etcd
    bootDataDir: ${NODE_WORK}/boot-etcd
    certDir: ${NODE_WORK}/pki/etcd
YAML
bin/bootstrap render --config "${NODE_WORK}/cluster.yaml" --asset-dir "${ASSETS}" "${render_flags[@]}"
bash hack/node/node.sh kubelet "${ASSETS}"
bash hack/node/node.sh exec -- "${REPO_ROOT}/bin/bootstrap" start --asset-dir "${ASSETS}" ${BOOTSTRAP_START_FLAGS:-}
for ((i = 2; i <= UP_WORKERS + 1; i++)); do
	log "==== worker node ${MN_PREFIX}${i}: runtime, bootstrap join, kubelet"
	mn_node "${i}" bash hack/node/node.sh runtime
	mn_join_worker "${ASSETS}" "${i}"
done

cat <<MSG

The cluster runs in network namespace ${NODE_NETNS} (node ${NODE_NAME}, ${NODE_IP})$( ((UP_WORKERS == 0)) || echo ", with ${UP_WORKERS} worker node(s) ${MN_PREFIX}2.. on bridge ${MN_PREFIX}-br"). Use it with:

  export KUBECONFIG=${ASSETS}/auth/admin.kubeconfig
  ${BIN_DIR}/kubectl get pods -n kube-system -o wide

Remove it with: make down
MSG
