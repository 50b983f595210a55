#!/usr/bin/env bash
# `make up`: as root on this kind of machine, bring up a one-node self-hosted
# cluster the way a user would: build, start the node (containerd + kubelet in
# a network namespace of their own), `bootstrap render` with defaults, run
# `bootstrap start`, and print how to use it. `make down` removes it all.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib/common.sh"
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
bin/bootstrap render --config "${NODE_WORK}/cluster.yaml" --asset-dir "${ASSETS}"
bash hack/node/node.sh kubelet "${ASSETS}"
bash hack/node/node.sh exec -- "${REPO_ROOT}/bin/bootstrap" start --asset-dir "${ASSETS}" ${BOOTSTRAP_START_FLAGS:-}

cat <<MSG

The cluster runs in network namespace ${NODE_NETNS} (node ${NODE_NAME}, ${NODE_IP}). Use it with:

  export KUBECONFIG=${ASSETS}/auth/admin.kubeconfig
  ${BIN_DIR}/kubectl get pods -n kube-system -o wide

Remove it with: make down
MSG
