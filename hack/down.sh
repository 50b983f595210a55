#!/usr/bin/env bash
# `make down`: removes what `make up` made, after a crash too: the one node,
# and every node of the multi-node segment (UP_WORKERS; hack/lib/multinode.sh).
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib/common.sh"
source "${HACK_DIR}/lib/multinode.sh"
# Workers first: they hold no state of the cluster's.
for i in $(mn_nodes | sort -rn); do
	log "==== node ${MN_PREFIX}${i}"
	mn_node "${i}" bash "${HACK_DIR}/node/node.sh" down
done
bash "${HACK_DIR}/node/node.sh" down
