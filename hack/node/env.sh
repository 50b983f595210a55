#!/usr/bin/env bash
# Settings of the e2e node. Source it; every value can be overridden from the
# environment (the e2e framework passes them explicitly).

# Work dir: containerd root/state/socket, kubelet root, logs, PID files.
NODE_WORK="${NODE_WORK:-/var/lib/bootstrap-e2e/node}"
# Network namespace the whole node runs in. Its veth pair connects it to the
# host: host side HOST_IP, node side NODE_IP. Nothing else is routed.
NODE_NETNS="${NODE_NETNS:-bse2e}"
NODE_IP="${NODE_IP:-10.250.0.2}"
HOST_IP="${HOST_IP:-10.250.0.1}"
NODE_PREFIX="${NODE_PREFIX:-24}"
NODE_VETH_HOST="${NODE_VETH_HOST:-${NODE_NETNS}-h}"
NODE_VETH_NODE="${NODE_VETH_NODE:-${NODE_NETNS}-n}"
NODE_NAME="${NODE_NAME:-e2e-node}"

# Pod network of the bridge CNI (one node: a /24 out of render's 10.244.0.0/16).
POD_SUBNET="${POD_SUBNET:-10.244.0.0/24}"
POD_GATEWAY="${POD_GATEWAY:-10.244.0.1}"
# Per-node names (so two nodes with different NODE_NETNS never share them).
if [[ "${NODE_NETNS}" == bse2e ]]; then _node_suffix=""; else _node_suffix="-${NODE_NETNS}"; fi
CNI_NETWORK="${CNI_NETWORK:-bootstrap-e2e${_node_suffix}}"
CNI_BRIDGE="${CNI_BRIDGE:-cni0}"
CLUSTER_DNS="${CLUSTER_DNS:-10.96.0.10}"
SERVICE_CIDR="${SERVICE_CIDR:-10.96.0.0/12}"
CLUSTER_DOMAIN="${CLUSTER_DOMAIN:-cluster.local}"

# kubelet: its static pod dir (must match the rendered config's
# node.staticPodPath) and the cgroup (v1, cgroupfs) every pod lives under.
STATIC_POD_PATH="${STATIC_POD_PATH:-${NODE_WORK}/manifests}"
KUBELET_CGROUP_ROOT="${KUBELET_CGROUP_ROOT:-/bootstrap-e2e${_node_suffix}}"
KUBELET_PORT="${KUBELET_PORT:-10250}"
KUBELET_HEALTHZ_PORT="${KUBELET_HEALTHZ_PORT:-10248}"
KUBELET_VERBOSITY="${KUBELET_VERBOSITY:-2}"
KUBELET_EXTRA_ARGS="${KUBELET_EXTRA_ARGS:-}"
# The kubelet runs as production does (docs/cloud-init.md): client
# certificates of the asset dir's CA, bearer tokens and authorization through
# the apiserver (Webhook). The temporary apiserver serves no TokenReview or
# SubjectAccessReview, so until the hand-over the kubelet refuses every
# apiserver->kubelet call (logs, exec); bootstrap start makes none.
# KUBELET_AUTHZ_MODE=AlwaysAllow KUBELET_WEBHOOK_AUTHN=false give the old lax setting.
KUBELET_AUTHZ_MODE="${KUBELET_AUTHZ_MODE:-Webhook}"
KUBELET_WEBHOOK_AUTHN="${KUBELET_WEBHOOK_AUTHN:-true}"
# The kubelet requests its serving certificate from the cluster CA
# (kubernetes.io/kubelet-serving, approved by bootstrap's csr-approver) and
# rotates its client certificate. Empty = true with a bootstrap asset dir,
# false with another tool's kubeconfig (kubeadm approves no serving CSR, and
# its kubelet-finalize phase expects the client certificate where it puts it).
KUBELET_SERVER_TLS_BOOTSTRAP="${KUBELET_SERVER_TLS_BOOTSTRAP:-}"
KUBELET_ROTATE_CERTIFICATES="${KUBELET_ROTATE_CERTIFICATES:-}"

# Multi-node mode (several nodes on one L2 segment): NODE_BRIDGE names a host
# bridge every node's veth is a port of, with HOST_IP on the bridge (e.g.
# bsj-br, nodes 10.253.0.2, .3, ... host 10.253.0.1). Empty (the default): the
# single node's point-to-point veth pair, exactly as before.
NODE_BRIDGE="${NODE_BRIDGE:-}"
# In multi-node mode every process node.sh starts also runs in a mount
# namespace of the node's own (pinned at NODE_MNTNS_DIR/NODE_NETNS), where
# NODE_PRIVATE_PATHS are bind mounts of dirs under NODE_WORK/root: a
# DaemonSet's hostPath (/run/flannel, /etc/cni/net.d, /opt/cni/bin) must be a
# different directory on every node, as on separate machines. Everything
# else (the work dir, /usr, /sys/fs/cgroup) is the host's.
NODE_MNTNS_DIR="${NODE_MNTNS_DIR:-/run/bootstrap-e2e-mnt}"
NODE_PRIVATE_PATHS=(/run/flannel /etc/cni/net.d /opt/cni/bin /var/lib/cni /var/lib/kubelet /var/log/containers)
# The CNI conflist containerd starts with (it must exist before containerd
# starts): bridge (one node, host-local POD_SUBNET) or flannel (the conflist
# flannel's DaemonSet installs; pods wait until flanneld wrote subnet.env).
NODE_CNI="${NODE_CNI:-bridge}"

CONTAINERD_DIR="${NODE_WORK}/containerd"
CONTAINERD_SOCK="${CONTAINERD_DIR}/containerd.sock"
KUBELET_DIR="${NODE_WORK}/kubelet"
LOG_DIR="${NODE_WORK}/logs"
RUN_DIR="${NODE_WORK}/run"
CNI_CONF_DIR="${NODE_WORK}/cni/net.d"
CNI_BIN_DIR=/usr/lib/cni
# containerd's view of the CNI dirs: the same, or in multi-node mode the
# node's private /etc/cni/net.d and /opt/cni/bin (CNI_CONF_DIR is then their
# source on the host).
CNI_CONF_DIR_NODE="${CNI_CONF_DIR}"
CNI_BIN_DIR_NODE="${CNI_BIN_DIR}"
if [[ -n "${NODE_BRIDGE}" ]]; then
	CNI_CONF_DIR="${NODE_WORK}/root/etc/cni/net.d"
	CNI_CONF_DIR_NODE=/etc/cni/net.d
	CNI_BIN_DIR_NODE=/opt/cni/bin
fi
POD_LOGS_DIR="${NODE_WORK}/pod-logs"

# Debian packages a fresh machine lacks.
NODE_PACKAGES=(containerd runc containernetworking-plugins iptables conntrack nftables iproute2 util-linux)

# Host paths outside NODE_WORK the kubelet or rendered hostPath volumes create
# (DirectoryOrCreate/FileOrCreate). Teardown removes the ones that did not exist
# before the first harness kubelet started, if they are empty, once no other
# harness node runs (the record is machine-wide: several nodes may share them).
HOST_PATHS_RECORD="${HOST_PATHS_RECORD:-/run/bootstrap-e2e-created-host-paths}"
KUBELET_HOST_PATHS=(/lib/modules /run/xtables.lock /var/lib/kubelet/device-plugins /var/lib/kubelet /var/log/containers /var/lib/cni/results /var/lib/cni)
