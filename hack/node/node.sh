#!/usr/bin/env bash
# The e2e node: containerd + a real kubelet, inside a network namespace of
# their own, with everything else (root, state, sockets, logs, PID files)
# under NODE_WORK. See hack/README.md.
#
#   node.sh deps                     install missing Debian packages (apt-get)
#   node.sh net                      create the netns + veth pair (idempotent)
#   node.sh containerd               write config + CNI conflist, start containerd, wait for it
#   node.sh images [DIR]             import hack/_output/images/*.tar (or DIR's) into containerd's k8s.io namespace
#   node.sh runtime                  deps + net + containerd + images
#   node.sh kubelet ASSET_DIR        start the real kubelet against ASSET_DIR/auth/kubelet.kubeconfig
#   node.sh kubelet                  with KUBELET_KUBECONFIG + KUBELET_CLIENT_CA set: another tool's files
#                                    (e.g. kubeadm's /etc/kubernetes/kubelet.conf and its ca.crt)
#   node.sh kubelet                  with KUBELET_BOOTSTRAP_KUBECONFIG + KUBELET_KUBECONFIG + KUBELET_CONFIG:
#                                    the files `bootstrap join` wrote (TLS bootstrap)
#   node.sh node-kubelet-config FILE the node's own kubelet settings, for `bootstrap join --node-kubelet-config`
#   node.sh up ASSET_DIR             runtime + kubelet
#   node.sh start NAME -- CMD...     start CMD in the node's netns in the background (PID file, log)
#   node.sh adopt NAME PID           record a process another tool started, so stop/down/powercut stop it too
#   node.sh stop NAME                stop a process started with `start` (or kubelet/containerd)
#   node.sh exec -- CMD...           run CMD in the node's netns (and mount namespace, multi-node)
#   node.sh ctr ARGS...              ctr against the node's containerd
#   node.sh crilist                  list pod sandboxes and containers through the CRI
#   node.sh status                   what is running
#   node.sh powercut                 SIGKILL everything of the node, drop its tmpfs state and netns
#   node.sh poweron [ASSET_DIR]      the node's boot: net + containerd + kubelet, nothing else
#   node.sh down                     tear everything down (idempotent, works after a crash)
#
# Processes run via `nsenter --net` (not `ip netns exec`), so they share the
# host's mount namespace: kubelet's volume mounts are visible to containerd and
# teardown can unmount them. Multi-node mode (NODE_BRIDGE set, see env.sh):
# the nodes' veths are ports of one host bridge, and node.sh's processes also
# share a mount namespace of the node's own, where a few host paths
# (/run/flannel, /etc/cni/net.d, /opt/cni/bin, ...) are the node's private
# dirs; it dies with the node (down, powercut), and its mounts with it.
set -euo pipefail
NODE_SH_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
source "${NODE_SH_DIR}/../lib/common.sh"
source "${NODE_SH_DIR}/env.sh"

PAUSE_IMAGE="${PAUSE_IMAGE:-registry.k8s.io/pause:${PAUSE_VERSION}}"

netns_path() { echo "/run/netns/${NODE_NETNS}"; }
mntns_path() { echo "${NODE_MNTNS_DIR}/${NODE_NETNS}"; }
# ns_args: nsenter's namespaces of the node: its netns, and in multi-node
# mode (NODE_BRIDGE) its mount namespace.
ns_args() {
	if [[ -n "${NODE_BRIDGE}" ]]; then
		echo "--net=$(netns_path) --mount=$(mntns_path)"
	else
		echo "--net=$(netns_path)"
	fi
}
# shellcheck disable=SC2046
in_netns() { nsenter $(ns_args) -- "$@"; }

# record_host_path P: P (and the parents it creates) did not exist before
# the harness; teardown removes them when empty (machine-wide record).
record_host_path() {
	local p="$1" missing=()
	while [[ ! -e "${p}" && "${p}" != / ]]; do missing+=("${p}"); p="$(dirname "${p}")"; done
	for p in "${missing[@]}"; do
		grep -qxF "${p}" "${HOST_PATHS_RECORD}" 2>/dev/null || echo "${p}" >> "${HOST_PATHS_RECORD}"
	done
}

# ensure_mntns (multi-node mode only) creates the node's mount namespace,
# pinned by a bind mount at mntns_path, with NODE_PRIVATE_PATHS bound to
# NODE_WORK/root/<path>. Idempotent.
ensure_mntns() {
	[[ -n "${NODE_BRIDGE}" ]] || return 0
	local f p src
	f="$(mntns_path)"
	if [[ -e "${f}" ]] && nsenter --mount="${f}" true 2> /dev/null; then return 0; fi
	mkdir -p "${NODE_MNTNS_DIR}"
	# A namespace can only be pinned on a mount that is not shared: make the
	# directory a private bind mount of itself (as ip netns does for /run/netns).
	if ! awk -v d="${NODE_MNTNS_DIR}" '$5 == d' /proc/self/mountinfo | grep -q .; then
		mount --bind "${NODE_MNTNS_DIR}" "${NODE_MNTNS_DIR}"
		mount --make-private "${NODE_MNTNS_DIR}"
	fi
	touch "${f}"
	unshare --mount="${f}" --propagation private true
	for p in "${NODE_PRIVATE_PATHS[@]}"; do
		src="${NODE_WORK}/root${p}"
		mkdir -p "${src}"
		record_host_path "${p}"
		mkdir -p "${p}"
		nsenter --mount="${f}" -- mount --bind "${src}" "${p}"
	done
	log "mntns: ${f}: private ${NODE_PRIVATE_PATHS[*]} (under ${NODE_WORK}/root)"
}

# release_mntns drops the pin; once no process is left in it, the kernel
# removes the namespace and every mount made in it.
release_mntns() {
	[[ -n "${NODE_BRIDGE}" ]] || return 0
	local f
	f="$(mntns_path)"
	[[ -e "${f}" ]] || return 0
	umount "${f}" 2> /dev/null || umount -l "${f}" 2> /dev/null || true
	rm -f "${f}"
	rmdir "${NODE_MNTNS_DIR}" 2> /dev/null && umount "${NODE_MNTNS_DIR}" 2> /dev/null
	if [[ -d "${NODE_MNTNS_DIR}" && -z "$(ls -A "${NODE_MNTNS_DIR}")" ]]; then
		umount "${NODE_MNTNS_DIR}" 2> /dev/null && rmdir "${NODE_MNTNS_DIR}" 2> /dev/null
	fi
	return 0
}

# ---------------------------------------------------------------- processes

proc_starttime() { awk '{print $22}' "/proc/$1/stat" 2>/dev/null || true; }

# record_pid NAME PID writes the record every other command reads:
# RUN_DIR/NAME.pid = "PID STARTTIME" (field 22 of /proc/PID/stat), so a reused
# PID is never signalled. The only writer; the e2e framework uses `adopt`.
record_pid() { mkdir -p "${RUN_DIR}"; echo "$2 $(proc_starttime "$2")" > "${RUN_DIR}/$1.pid"; }

# pid_of NAME prints the PID recorded for NAME if that process is still the one
# we started (same start time), nothing otherwise.
pid_of() {
	local f="${RUN_DIR}/$1.pid" pid st
	[[ -f "${f}" ]] || return 0
	read -r pid st < "${f}" || return 0
	[[ -n "${pid}" && -d "/proc/${pid}" && "$(proc_starttime "${pid}")" == "${st}" ]] && echo "${pid}"
	return 0
}

# start_bg NAME CMD... starts CMD inside the netns, detached, logging to LOG_DIR/NAME.log.
start_bg() {
	local name="$1"; shift
	mkdir -p "${RUN_DIR}" "${LOG_DIR}"
	if [[ -n "$(pid_of "${name}")" ]]; then
		log "${name} already running (pid $(pid_of "${name}"))"
		return 0
	fi
	ensure_mntns
	# shellcheck disable=SC2046
	setsid nsenter $(ns_args) -- "$@" >> "${LOG_DIR}/${name}.log" 2>&1 < /dev/null &
	local pid=$!
	record_pid "${name}" "${pid}"
	log "${name} started (pid ${pid}, log ${LOG_DIR}/${name}.log)"
}

# stop_bg NAME [TIMEOUT]: SIGTERM, wait, SIGKILL. Only the PID we recorded.
stop_bg() {
	local name="$1" timeout="${2:-20}" pid i
	pid="$(pid_of "${name}")"
	if [[ -n "${pid}" ]]; then
		log "stopping ${name} (pid ${pid})"
		kill -TERM "${pid}" 2>/dev/null || true
		for ((i = 0; i < timeout * 10; i++)); do
			[[ -d "/proc/${pid}" ]] || break
			sleep 0.1
		done
		if [[ -d "/proc/${pid}" ]]; then
			log "${name} did not exit in ${timeout}s; SIGKILL"
			kill -KILL "${pid}" 2>/dev/null || true
			sleep 0.2
		fi
	fi
	rm -f "${RUN_DIR}/${name}.pid"
}

wait_for() { # wait_for DESCRIPTION TIMEOUT_S CMD...
	local what="$1" timeout="$2" i; shift 2
	for ((i = 0; i < timeout * 10; i++)); do
		if "$@" > /dev/null 2>&1; then return 0; fi
		sleep 0.1
	done
	die "timed out after ${timeout}s waiting for ${what}"
}

# ---------------------------------------------------------------- deps

cmd_deps() {
	local missing=() p
	for p in "${NODE_PACKAGES[@]}"; do
		dpkg-query -W -f='${Status}' "${p}" 2>/dev/null | grep -q 'install ok installed' || missing+=("${p}")
	done
	if [[ ${#missing[@]} -eq 0 ]]; then
		log "deps: all installed (${NODE_PACKAGES[*]})"
		return 0
	fi
	log "deps: installing ${missing[*]}"
	# Package scripts must not start the distribution's containerd service.
	if [[ ! -d /var/lib/apt/lists/partial || -z "$(ls /var/lib/apt/lists/ 2>/dev/null | grep -v -e lock -e partial -e auxfiles)" ]]; then
		apt-get update -q
	fi
	DEBIAN_FRONTEND=noninteractive RUNLEVEL=1 apt-get install -y -q --no-install-recommends "${missing[@]}" ||
		{ apt-get update -q && DEBIAN_FRONTEND=noninteractive RUNLEVEL=1 apt-get install -y -q --no-install-recommends "${missing[@]}"; }
}

# ---------------------------------------------------------------- network

cmd_net() {
	if [[ ! -e "$(netns_path)" ]]; then
		ip netns add "${NODE_NETNS}"
		log "net: created netns ${NODE_NETNS}"
	fi
	# in_netns below enters the node's mount namespace too (multi-node mode),
	# which a power cut released: make it again before using it.
	ensure_mntns
	if ! ip link show "${NODE_VETH_HOST}" > /dev/null 2>&1; then
		ip link add "${NODE_VETH_HOST}" type veth peer name "${NODE_VETH_NODE}" netns "${NODE_NETNS}"
	fi
	if [[ -n "${NODE_BRIDGE}" ]]; then
		# Multi-node: the veth is a port of the bridge, one L2 segment for all
		# nodes (a rack switch); the host's address is on the bridge.
		ip link show "${NODE_BRIDGE}" > /dev/null 2>&1 || ip link add "${NODE_BRIDGE}" type bridge
		# A switch, not a router: bridged frames skip the host's iptables.
		ip link set "${NODE_BRIDGE}" type bridge nf_call_iptables 0 nf_call_ip6tables 0 nf_call_arptables 0 2> /dev/null || true
		ip addr replace "${HOST_IP}/${NODE_PREFIX}" dev "${NODE_BRIDGE}"
		ip link set "${NODE_BRIDGE}" up
		ip link set "${NODE_VETH_HOST}" master "${NODE_BRIDGE}"
	else
		ip addr replace "${HOST_IP}/${NODE_PREFIX}" dev "${NODE_VETH_HOST}"
	fi
	ip link set "${NODE_VETH_HOST}" up
	ip -n "${NODE_NETNS}" link set lo up
	ip -n "${NODE_NETNS}" addr replace "${NODE_IP}/${NODE_PREFIX}" dev "${NODE_VETH_NODE}"
	ip -n "${NODE_NETNS}" link set "${NODE_VETH_NODE}" up
	# No default route on purpose: nothing inside may reach addresses that are not ours.
	# The service CIDR is routed to lo: a process on the node connecting to a ClusterIP
	# needs a route before kube-proxy's OUTPUT DNAT rewrites the destination to a pod;
	# a packet no rule rewrites stays inside the namespace and is dropped.
	ip -n "${NODE_NETNS}" route replace "${SERVICE_CIDR}" dev lo
	if [[ -n "${NODE_BRIDGE}" ]]; then
		# Node agents (flanneld) pick the interface of the default route. It is
		# on-link: nothing on the segment answers ARP for an address outside
		# it, so no packet leaves the segment.
		ip -n "${NODE_NETNS}" route replace default dev "${NODE_VETH_NODE}"
	fi
	in_netns sysctl -q -w net.ipv4.ip_forward=1 net.bridge.bridge-nf-call-iptables=1 net.bridge.bridge-nf-call-ip6tables=1 2>/dev/null ||
		in_netns sysctl -q -w net.ipv4.ip_forward=1
	log "net: netns ${NODE_NETNS}: ${NODE_VETH_NODE} ${NODE_IP}/${NODE_PREFIX} <-> host ${NODE_VETH_HOST} ${HOST_IP}${NODE_BRIDGE:+ (bridge ${NODE_BRIDGE})}"
}

# ---------------------------------------------------------------- containerd

write_containerd_config() {
	mkdir -p "${CONTAINERD_DIR}" "${CNI_CONF_DIR}" "${NODE_WORK}/cni/ipam" "${POD_LOGS_DIR}"
	cat > "${CONTAINERD_DIR}/config.toml" <<EOF
# Written by hack/node/node.sh. Settings per NODE-FACTS (cgroup v1, no systemd, no registry).
version = 2
root = "${CONTAINERD_DIR}/root"
state = "${CONTAINERD_DIR}/state"
disabled_plugins = ["io.containerd.snapshotter.v1.aufs", "io.containerd.snapshotter.v1.btrfs", "io.containerd.snapshotter.v1.zfs", "io.containerd.snapshotter.v1.devmapper"]

[grpc]
  address = "${CONTAINERD_SOCK}"

[plugins."io.containerd.internal.v1.opt"]
  path = "${CONTAINERD_DIR}/opt"

[plugins."io.containerd.grpc.v1.cri"]
  sandbox_image = "${PAUSE_IMAGE}"
  # Required here: root lacks CAP_SYS_RESOURCE, a negative oom_score_adj fails every sandbox.
  restrict_oom_score_adj = true
  netns_mounts_under_state_dir = true
  stream_server_address = "127.0.0.1"
  stream_server_port = "0"
  [plugins."io.containerd.grpc.v1.cri".containerd]
    snapshotter = "overlayfs"
    default_runtime_name = "runc"
    [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc]
      runtime_type = "io.containerd.runc.v2"
      [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc.options]
        SystemdCgroup = false
        Root = "${CONTAINERD_DIR}/runc"
  [plugins."io.containerd.grpc.v1.cri".cni]
    bin_dir = "${CNI_BIN_DIR_NODE}"
    conf_dir = "${CNI_CONF_DIR_NODE}"
    max_conf_num = 1
EOF
	if [[ -n "${NODE_BRIDGE}" ]]; then
		# The node's private CNI bin dir: Debian's plugins; flannel's init
		# container adds its plugin.
		local b bindir="${NODE_WORK}/root${CNI_BIN_DIR_NODE}"
		mkdir -p "${bindir}"
		for b in "${CNI_BIN_DIR}"/*; do ln -sfn "${b}" "${bindir}/$(basename "${b}")"; done
	fi
	# The conflist must exist BEFORE containerd starts (1.6 does not reliably notice it later).
	if [[ "${NODE_CNI}" == flannel ]]; then
		# What flannel's install-cni init container writes (pkg/assets/flannel.go).
		echo '{"name":"cbr0","cniVersion":"0.3.1","plugins":[{"type":"flannel","delegate":{"hairpinMode":true,"isDefaultGateway":true}},{"type":"portmap","capabilities":{"portMappings":true}}]}' > "${CNI_CONF_DIR}/10-flannel.conflist"
		return 0
	fi
	cat > "${CNI_CONF_DIR}/10-${CNI_NETWORK}.conflist" <<EOF
{
  "cniVersion": "0.4.0",
  "name": "${CNI_NETWORK}",
  "plugins": [
    {
      "type": "bridge",
      "bridge": "${CNI_BRIDGE}",
      "isGateway": true,
      "ipMasq": true,
      "hairpinMode": true,
      "ipam": {
        "type": "host-local",
        "dataDir": "${NODE_WORK}/cni/ipam",
        "ranges": [[{"subnet": "${POD_SUBNET}", "gateway": "${POD_GATEWAY}"}]],
        "routes": [{"dst": "0.0.0.0/0"}]
      }
    },
    {"type": "portmap", "capabilities": {"portMappings": true}}
  ]
}
EOF
}

containerd_ready() { ctr --address "${CONTAINERD_SOCK}" version; }

start_containerd() {
	[[ -e "$(netns_path)" ]] || cmd_net
	write_containerd_config
	if [[ -n "$(pid_of containerd)" ]] && containerd_ready > /dev/null 2>&1; then
		log "containerd: already running (pid $(pid_of containerd))"
		return 0
	fi
	local start=${SECONDS}
	start_bg containerd containerd --config "${CONTAINERD_DIR}/config.toml"
	wait_for "containerd socket ${CONTAINERD_SOCK} (log ${LOG_DIR}/containerd.log)" 30 containerd_ready
	log "containerd: ready in $((SECONDS - start))s"
}

cmd_containerd() { start_containerd; }

cmd_images() {
	local dir="${1:-${IMAGES_DIR}}"
	local idx="${dir}/images.txt" file refs start=${SECONDS} n=0
	[[ -f "${idx}" ]] || die "no ${idx}; run hack/build-images.sh first"
	containerd_ready > /dev/null 2>&1 || die "containerd is not running; run node.sh containerd first"
	mkdir -p "${LOG_DIR}"
	# Imports run in parallel (unpacking is I/O + gunzip); each failure is reported.
	local pids=() files=() i rc=0
	while read -r file refs; do
		[[ -n "${file}" ]] || continue
		ctr --address "${CONTAINERD_SOCK}" -n k8s.io images import --platform linux/amd64 "${dir}/${file}" > "${LOG_DIR}/import-${file%.tar}.log" 2>&1 &
		pids+=($!)
		files+=("${file}")
		n=$((n + 1))
	done < "${idx}"
	for i in "${!pids[@]}"; do
		if ! wait "${pids[${i}]}"; then
			log "images: import of ${files[${i}]} FAILED:"
			cat "${LOG_DIR}/import-${files[${i}]%.tar}.log" >&2
			rc=1
		fi
	done
	[[ ${rc} == 0 ]] || die "image import failed"
	log "images: imported ${n} image archives in $((SECONDS - start))s:"
	ctr --address "${CONTAINERD_SOCK}" -n k8s.io images ls -q | sed 's/^/    /' >&2
}

# ---------------------------------------------------------------- kubelet

# The kubelet's cgroup root must exist in every v1 hierarchy before it starts.
make_cgroup_root() {
	local h d
	for h in /sys/fs/cgroup/*/; do
		[[ -f "${h}cgroup.procs" ]] || continue
		d="${h%/}${KUBELET_CGROUP_ROOT}"
		mkdir -p "${d}"
		if [[ -f "${h}cpuset.cpus" && -f "${d}/cpuset.cpus" && -z "$(cat "${d}/cpuset.cpus")" ]]; then
			cat "${h}cpuset.cpus" > "${d}/cpuset.cpus"
			cat "${h}cpuset.mems" > "${d}/cpuset.mems"
		fi
	done
}

write_kubelet_config() {
	local client_ca="$1" server_tls_bootstrap="$2" rotate_certificates="$3" out="${4:-${NODE_WORK}/kubelet-config.yaml}"
	mkdir -p "${KUBELET_DIR}" "${STATIC_POD_PATH}" "${POD_LOGS_DIR}"
	echo "nameserver ${HOST_IP}" > "${NODE_WORK}/resolv.conf"
	cat > "${out}" <<EOF
# Written by hack/node/node.sh. Settings per NODE-FACTS (cgroup v1, containerd 1.6).
apiVersion: kubelet.config.k8s.io/v1beta1
kind: KubeletConfiguration
failCgroupV1: false
cgroupDriver: cgroupfs
cgroupRoot: ${KUBELET_CGROUP_ROOT}
failSwapOn: false
containerRuntimeEndpoint: unix://${CONTAINERD_SOCK}
staticPodPath: ${STATIC_POD_PATH}
podLogsDir: ${POD_LOGS_DIR}
volumePluginDir: ${KUBELET_DIR}/volume-plugins
resolvConf: ${NODE_WORK}/resolv.conf
address: ${NODE_IP}
port: ${KUBELET_PORT}
readOnlyPort: 0
healthzBindAddress: 127.0.0.1
healthzPort: ${KUBELET_HEALTHZ_PORT}
clusterDNS: [${CLUSTER_DNS}]
clusterDomain: ${CLUSTER_DOMAIN}
authentication:
  anonymous:
    enabled: false
  webhook:
    enabled: ${KUBELET_WEBHOOK_AUTHN}
  x509:
    clientCAFile: ${client_ca}
authorization:
  mode: ${KUBELET_AUTHZ_MODE}
rotateCertificates: ${rotate_certificates}
serverTLSBootstrap: ${server_tls_bootstrap}
# As docs/cloud-init.md (CIS 4.2.12, 4.2.13): AEAD suites only, a PID limit per pod.
tlsCipherSuites: [TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256, TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384, TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256, TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256, TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384, TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256]
podPidsLimit: 4096
evictionHard:
  memory.available: 100Mi
  nodefs.available: 1%
  imagefs.available: 1%
imageGCHighThresholdPercent: 100
imageGCLowThresholdPercent: 99
fileCheckFrequency: 5s
EOF
}

# The kubelet's kubeconfig and client CA come from a bootstrap asset dir, or
# (KUBELET_KUBECONFIG + KUBELET_CLIENT_CA, no asset dir) from another tool such
# as kubeadm, so the benchmark runs both on the same kubelet and config.
cmd_kubelet() {
	local asset_dir="${1:-${ASSET_DIR:-}}" kubeconfig client_ca server_tls_bootstrap="${KUBELET_SERVER_TLS_BOOTSTRAP}" rotate="${KUBELET_ROTATE_CERTIFICATES}"
	local config="${NODE_WORK}/kubelet-config.yaml" bootstrap_args=()
	if [[ -n "${KUBELET_BOOTSTRAP_KUBECONFIG:-}" ]]; then
		# A joined node (bootstrap join): its files, its configuration as join
		# wrote it; the kubelet writes KUBELET_KUBECONFIG after its TLS bootstrap.
		[[ -f "${KUBELET_BOOTSTRAP_KUBECONFIG}" ]] || die "${KUBELET_BOOTSTRAP_KUBECONFIG} missing (run bootstrap join first)"
		config="${KUBELET_CONFIG:?KUBELET_CONFIG must be set with KUBELET_BOOTSTRAP_KUBECONFIG}"
		kubeconfig="${KUBELET_KUBECONFIG:?KUBELET_KUBECONFIG must be set with KUBELET_BOOTSTRAP_KUBECONFIG}"
		[[ -f "${config}" ]] || die "${config} missing (run bootstrap join first)"
		bootstrap_args=(--bootstrap-kubeconfig="${KUBELET_BOOTSTRAP_KUBECONFIG}")
	elif [[ -z "${asset_dir}" && -n "${KUBELET_KUBECONFIG:-}" ]]; then
		kubeconfig="${KUBELET_KUBECONFIG}"
		client_ca="${KUBELET_CLIENT_CA:?KUBELET_CLIENT_CA must be set with KUBELET_KUBECONFIG}"
		server_tls_bootstrap="${server_tls_bootstrap:-false}" rotate="${rotate:-false}"
	else
		server_tls_bootstrap="${server_tls_bootstrap:-true}" rotate="${rotate:-true}"
		[[ -n "${asset_dir}" ]] || die "usage: node.sh kubelet ASSET_DIR (or KUBELET_KUBECONFIG=F KUBELET_CLIENT_CA=F node.sh kubelet)"
		asset_dir="$(cd "${asset_dir}" && pwd)"
		kubeconfig="${asset_dir}/auth/kubelet.kubeconfig"
		client_ca="${asset_dir}/tls/ca.crt"
	fi
	if [[ ${#bootstrap_args[@]} == 0 ]]; then
		[[ -f "${kubeconfig}" ]] || die "${kubeconfig} missing (run bootstrap render first)"
		[[ -f "${client_ca}" ]] || die "${client_ca} missing"
	fi
	# KUBELET_BIN: another version's kubelet (the upgrade scenarios start on
	# the previous minor's and replace it, as users do).
	local kubelet_bin="${KUBELET_BIN:-${BIN_DIR}/kubelet}"
	[[ -x "${kubelet_bin}" ]] || die "${kubelet_bin} missing; run hack/build-binaries.sh"
	containerd_ready > /dev/null 2>&1 || die "containerd is not running; run node.sh runtime first"
	if [[ -n "$(pid_of kubelet)" ]]; then
		log "kubelet: already running (pid $(pid_of kubelet))"
		return 0
	fi
	make_cgroup_root
	if [[ ${#bootstrap_args[@]} == 0 ]]; then
		write_kubelet_config "${client_ca}" "${server_tls_bootstrap}" "${rotate}"
	else
		mkdir -p "${KUBELET_DIR}" "${STATIC_POD_PATH}" "${POD_LOGS_DIR}"
	fi
	# Host paths the kubelet (or hostPath volumes of rendered pods: /lib/modules,
	# /run/xtables.lock) may create; teardown removes those that did not exist before.
	local hp
	for hp in "${KUBELET_HOST_PATHS[@]}"; do
		[[ -e "${hp}" ]] || grep -qxF "${hp}" "${HOST_PATHS_RECORD}" 2>/dev/null || echo "${hp}" >> "${HOST_PATHS_RECORD}"
	done
	# shellcheck disable=SC2086
	start_bg kubelet "${kubelet_bin}" \
		--config="${config}" \
		--kubeconfig="${kubeconfig}" "${bootstrap_args[@]}" \
		--root-dir="${KUBELET_DIR}" \
		--cert-dir="${KUBELET_DIR}/pki" \
		--hostname-override="${NODE_NAME}" \
		--node-ip="${NODE_IP}" \
		--v="${KUBELET_VERBOSITY}" ${KUBELET_EXTRA_ARGS}
	wait_for "kubelet healthz on 127.0.0.1:${KUBELET_HEALTHZ_PORT} in netns (log ${LOG_DIR}/kubelet.log)" 60 \
		in_netns bash -c "exec 3<>/dev/tcp/127.0.0.1/${KUBELET_HEALTHZ_PORT}"
	log "kubelet: serving healthz"
}

# ---------------------------------------------------------------- teardown

# Processes inside our kubelet cgroup root are pod processes of our node.
kill_cgroup_procs() {
	local h pids
	for h in /sys/fs/cgroup/pids /sys/fs/cgroup/memory /sys/fs/cgroup/cpu,cpuacct /sys/fs/cgroup/cpu; do
		[[ -d "${h}${KUBELET_CGROUP_ROOT}" ]] || continue
		pids="$(find "${h}${KUBELET_CGROUP_ROOT}" -name cgroup.procs -exec cat {} + 2>/dev/null | sort -u | tr '\n' ' ')"
		if [[ -n "${pids// /}" ]]; then
			log "down: killing leftover pod processes in ${h}${KUBELET_CGROUP_ROOT}: ${pids}"
			# shellcheck disable=SC2086
			kill -KILL ${pids} 2>/dev/null || true
			sleep 0.5
		fi
		return 0
	done
}

# Shims of OUR containerd carry our unique socket path in their command line.
# One grep over every cmdline finds the candidates (a shell loop over /proc
# took seconds with four nodes' processes); each is then checked exactly.
kill_our_shims() {
	local f p
	for f in $(grep -l -a -F -- "${CONTAINERD_SOCK}" /proc/[0-9]*/cmdline 2>/dev/null); do
		p="${f%/cmdline}"
		if tr '\0' ' ' < "${p}/cmdline" 2>/dev/null | grep -q -- "-address ${CONTAINERD_SOCK} "; then
			log "down: killing leftover shim ${p#/proc/}"
			kill -KILL "${p#/proc/}" 2>/dev/null || true
		fi
	done
}

remove_cgroup_root() {
	local h d
	for h in /sys/fs/cgroup/*/; do
		d="${h%/}${KUBELET_CGROUP_ROOT}"
		[[ -d "${d}" ]] || continue
		find "${d}" -depth -type d -exec rmdir {} + 2>/dev/null || true
		[[ -d "${d}" ]] && log "down: WARNING: could not remove cgroup ${d}"
	done
	return 0
}

unmount_under() {
	local dir="$1" m
	[[ -d "${dir}" ]] || return 0
	# Deepest first. /proc/self/mountinfo escapes spaces as \040; our paths have none.
	while read -r m; do
		umount "${m}" 2>/dev/null || umount -l "${m}" 2>/dev/null || log "down: WARNING: cannot unmount ${m}"
	done < <(awk -v d="${dir}/" 'index($5, d) == 1 {print $5}' /proc/self/mountinfo | sort -r -u)
}

# remove_bridge_if_unused: the last node of the segment to go down removes the bridge.
remove_bridge_if_unused() {
	[[ -n "${NODE_BRIDGE}" && -d "/sys/class/net/${NODE_BRIDGE}" ]] || return 0
	if [[ -z "$(ls -A "/sys/class/net/${NODE_BRIDGE}/brif" 2> /dev/null)" ]]; then
		ip link del "${NODE_BRIDGE}" && log "down: deleted bridge ${NODE_BRIDGE}"
	fi
	return 0
}

# other_nodes_running: is a kubelet or containerd of another harness node alive?
other_nodes_running() {
	local p
	for p in /proc/[0-9]*; do
		case "$(cat "${p}/comm" 2>/dev/null)" in
		kubelet | containerd)
			# e2e nodes work under /var/lib/bootstrap-e2e, `make up`'s under /var/lib/bootstrap-up.
			tr '\0' ' ' < "${p}/cmdline" 2>/dev/null | grep -qE 'bootstrap-(e2e|up)' && return 0 ;;
		esac
	done
	return 1
}

cmd_down() {
	local start=${SECONDS} name f
	stop_bg kubelet 20
	# Anything else started with `node.sh start` (temporary control plane, apiservers, ...).
	# Newest first: an apiserver stops before the etcd it depends on.
	if [[ -d "${RUN_DIR}" ]]; then
		while read -r f; do
			[[ -e "${f}" ]] || continue
			name="$(basename "${f}" .pid)"
			[[ "${name}" == containerd ]] && continue
			stop_bg "${name}" 15
		done < <(ls -t "${RUN_DIR}"/*.pid 2>/dev/null)
	fi
	# Pods go through the CRI so containerd releases netns and CNI addresses. After
	# a crash, containerd is started once more just for that.
	if [[ -d "${CONTAINERD_DIR}/root" ]]; then
		local temp=0
		if ! containerd_ready > /dev/null 2>&1 && [[ -x "$(command -v containerd)" ]]; then
			log "down: containerd not running; starting it to clean up pods"
			[[ -e "$(netns_path)" ]] || cmd_net
			start_bg containerd containerd --config "${CONTAINERD_DIR}/config.toml"
			for ((i = 0; i < 100; i++)); do containerd_ready > /dev/null 2>&1 && break; sleep 0.1; done
			temp=1
		fi
		if containerd_ready > /dev/null 2>&1; then
			"${BIN_DIR}/cricleanup" -address "${CONTAINERD_SOCK}" -timeout 90s ||
				log "down: WARNING: CRI cleanup reported errors (continuing)"
		fi
		[[ ${temp} == 1 ]] && log "down: stopping the cleanup containerd"
	fi
	stop_bg containerd 20
	kill_cgroup_procs
	kill_our_shims
	unmount_under "${NODE_WORK}"
	# Network: deleting the netns removes the veth pair, the CNI bridge and every
	# iptables/nftables rule (KUBE-*, CNI-*) created inside it.
	if [[ -e "$(netns_path)" ]]; then
		ip netns del "${NODE_NETNS}" && log "down: deleted netns ${NODE_NETNS}"
	fi
	ip link del "${NODE_VETH_HOST}" 2>/dev/null || true
	release_mntns
	remove_bridge_if_unused
	remove_cgroup_root
	# Files the kubelet/CNI write outside their roots.
	if [[ -S /var/lib/kubelet/device-plugins/kubelet.sock ]] &&
		! grep -q ' /var/lib/kubelet/device-plugins/kubelet.sock$' /proc/net/unix; then
		rm -f /var/lib/kubelet/device-plugins/kubelet.sock
	fi
	rmdir /var/lib/kubelet/device-plugins /var/lib/kubelet 2>/dev/null || true
	if [[ -d /var/log/containers ]]; then
		find /var/log/containers -maxdepth 1 -type l -lname "${POD_LOGS_DIR}/*" -delete 2>/dev/null || true
		rmdir /var/log/containers 2>/dev/null || true
	fi
	local r id
	for r in /var/lib/cni/results/"${CNI_NETWORK}"-*; do
		[[ -e "${r}" ]] || continue
		id="${r#/var/lib/cni/results/"${CNI_NETWORK}"-}"
		id="${id%-*}"
		rm -f "${r}" "/var/lib/cni/results/cni-loopback-${id}-lo"
	done
	rmdir /var/lib/cni/results /var/lib/cni 2>/dev/null || true
	# Host paths that did not exist before the first harness kubelet started
	# (machine-wide record): removed if empty, by the last node to go down.
	if [[ -f "${HOST_PATHS_RECORD}" ]] && ! other_nodes_running; then
		while read -r hp; do
			if [[ -d "${hp}" ]]; then
				rmdir "${hp}" 2>/dev/null || true
			elif [[ -f "${hp}" && ! -s "${hp}" ]]; then
				rm -f "${hp}"
			fi
		done < <(cat "${HOST_PATHS_RECORD}" 2> /dev/null || true) # another node may remove it meanwhile
		rm -f "${HOST_PATHS_RECORD}"
	fi
	# `ip netns add` leaves /run/netns bind-mounted on itself; undo it once no netns is left.
	if [[ -d /run/netns && -z "$(ls -A /run/netns 2>/dev/null)" ]] && awk '$5 == "/run/netns"' /proc/self/mountinfo | grep -q .; then
		umount /run/netns 2>/dev/null || true
	fi
	if [[ "${NODE_KEEP_WORK:-0}" != 1 && -d "${NODE_WORK}" ]]; then
		unmount_under "${NODE_WORK}"
		rm -rf "${NODE_WORK}"
		[[ "$(basename "$(dirname "${NODE_WORK}")")" == bootstrap-e2e ]] && rmdir "$(dirname "${NODE_WORK}")" 2>/dev/null || true
	fi
	log "down: done in $((SECONDS - start))s"
}

# ---------------------------------------------------------------- power cut

# powercut leaves the node as a power cut would: everything SIGKILLed at
# once (kubelet, containerd, every shim, every pod process, and whatever
# `node.sh start` started), then what lives in tmpfs on a real machine is
# gone: every mount under the work dir (pod volumes, container root
# filesystems, sandbox netns), containerd's state dir (/run/containerd on a
# real machine), the network namespace (and with it every interface,
# iptables rule and the CNI bridge), the pod cgroups. What is on disk
# survives: containerd's root (images, snapshots), the kubelet's root dir,
# etcd's data, the static pod dir, the asset dir.
cmd_powercut() {
	local start=${SECONDS} f pid i
	if [[ -d "${RUN_DIR}" ]]; then
		for f in "${RUN_DIR}"/*.pid; do
			[[ -e "${f}" ]] || continue
			pid="$(pid_of "$(basename "${f}" .pid)")"
			[[ -n "${pid}" ]] && kill -KILL "${pid}" 2>/dev/null
			rm -f "${f}"
		done
	fi
	# The pods first (one find over the cgroup root): in a power cut etcd
	# and kube-apiserver die with the kubelet, not seconds later.
	for i in 1 2 3; do
		kill_cgroup_procs > /dev/null
		kill_our_shims > /dev/null
	done
	sleep 0.2
	unmount_under "${NODE_WORK}"
	rm -rf "${CONTAINERD_DIR}/state"
	if [[ -e "$(netns_path)" ]]; then
		ip netns del "${NODE_NETNS}"
	fi
	ip link del "${NODE_VETH_HOST}" 2>/dev/null || true
	# The node's mount namespace is memory too; its private dirs (on disk
	# under NODE_WORK/root) survive and are bound again at power-on.
	release_mntns
	remove_cgroup_root
	log "powercut: node ${NODE_NAME} is off (in $((SECONDS - start))s)"
}

# poweron: the node's boot: network, containerd, and the kubelet exactly as
# configured before (nothing else).
cmd_poweron() { cmd_net && start_containerd && cmd_kubelet "$@"; }

cmd_status() {
	local n f
	echo "netns ${NODE_NETNS}: $([[ -e "$(netns_path)" ]] && echo present || echo absent)"
	if [[ -d "${RUN_DIR}" ]]; then
		for f in "${RUN_DIR}"/*.pid; do
			[[ -e "${f}" ]] || continue
			n="$(basename "${f}" .pid)"
			echo "${n}: $([[ -n "$(pid_of "${n}")" ]] && echo "running (pid $(pid_of "${n}"))" || echo "not running (stale pid file)")"
		done
	fi
	echo "mounts under ${NODE_WORK}: $(awk -v d="${NODE_WORK}/" 'index($5, d) == 1' /proc/self/mountinfo | wc -l)"
}

main() {
	local cmd="${1:-}"
	[[ $# -gt 0 ]] && shift
	[[ $(id -u) == 0 ]] || die "node.sh must run as root"
	case "${cmd}" in
	deps) cmd_deps ;;
	net) cmd_net ;;
	containerd) cmd_containerd ;;
	images) cmd_images "$@" ;;
	runtime) cmd_deps && cmd_net && cmd_containerd && cmd_images ;;
	kubelet) cmd_kubelet "$@" ;;
	node-kubelet-config)
		# The node's own kubelet settings, for bootstrap join --node-kubelet-config.
		write_kubelet_config /etc/kubernetes/pki/ca.crt true true "${1:?usage: node.sh node-kubelet-config FILE}" ;;
	up) cmd_deps && cmd_net && cmd_containerd && cmd_images && cmd_kubelet "$@" ;;
	start)
		local name="${1:?usage: node.sh start NAME -- CMD...}"; shift
		[[ "${1:-}" == "--" ]] && shift
		[[ -e "$(netns_path)" ]] || die "netns ${NODE_NETNS} missing; run node.sh net first"
		start_bg "${name}" "$@" ;;
	adopt)
		[[ -d "/proc/${2:?usage: node.sh adopt NAME PID}" ]] || die "adopt: no process ${2}"
		record_pid "${1}" "${2}" ;;
	stop) stop_bg "${1:?usage: node.sh stop NAME}" "${2:-20}" ;;
	exec)
		[[ "${1:-}" == "--" ]] && shift
		# shellcheck disable=SC2046
		exec nsenter $(ns_args) -- "$@" ;;
	ctr) exec ctr --address "${CONTAINERD_SOCK}" "$@" ;;
	crilist) exec "${BIN_DIR}/cricleanup" -address "${CONTAINERD_SOCK}" -list ;;
	status) cmd_status ;;
	powercut) cmd_powercut ;;
	poweron) cmd_poweron "$@" ;;
	down) cmd_down ;;
	*) sed -n '2,35p' "${BASH_SOURCE[0]}"; exit 2 ;;
	esac
}

main "$@"
