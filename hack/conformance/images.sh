#!/usr/bin/env bash
# Writes the test images the conformance suite runs into
# hack/_output/images/conformance, under the exact names `e2e.test --list-images`
# prints, from what is built here: agnhost and sample-apiserver from their Go
# sources (hack/build-binaries.sh conformance), etcd and pause from the
# harness' own binaries, busybox from the host's static busybox, and the host
# tools agnhost's upstream image gets from Alpine (dig, getent, nc, curl, ss, ip,
# bash) with their shared libraries. Images whose recipe is not here are
# listed as "not built"; hack/conformance/skip.txt skips the tests that need them.
#
# Usage: hack/conformance/images.sh   (after hack/build-binaries.sh conformance etcd tools;
#        CONFORMANCE_SUITE=e2e-subset.test after ... conformance-subset ...)
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/../lib/common.sh"

OUT="${IMAGES_DIR}/conformance"
mkdir -p "${OUT}"
# The suite whose images are written: e2e.test, or the CI subset's e2e-subset.test.
SUITE="${CONFORMANCE_SUITE:-e2e.test}"
for b in "${SUITE}" agnhost sample-apiserver nonewprivs etcd etcdctl etcdutl pause imgtool; do
	[[ -x "${BIN_DIR}/${b}" ]] || die "images: ${BIN_DIR}/${b} missing (hack/build-binaries.sh conformance etcd tools)"
done
BUSYBOX="${CONFORMANCE_BUSYBOX:-/bin/busybox}"
HOST_TOOLS=(/usr/bin/dash /usr/bin/bash /usr/bin/dig /usr/bin/nslookup /usr/bin/host /usr/bin/getent /usr/bin/nc.openbsd
	/usr/bin/curl /usr/bin/ss /usr/bin/ip)
for t in "${BUSYBOX}" "${HOST_TOOLS[@]}"; do
	[[ -x "${t}" ]] || die "images: ${t} missing (hack/conformance.sh installs busybox-static bind9-dnsutils netcat-openbsd curl iproute2)"
done
[[ "$(file -b "${BUSYBOX}" 2>/dev/null || true)" == *"statically linked"* ]] ||
	die "images: ${BUSYBOX} is not a static busybox (apt-get install busybox-static)"
UPSTREAM="$(cd "${HACK_DIR}/conformance" && GOWORK=off go list -m -f '{{.Dir}}' k8s.io/kubernetes)"

# JSON helpers: a list of strings, a symlink entry.
jlist() { local s="" x; for x in "$@"; do s+="\"${x}\","; done; printf '[%s]' "${s%,}"; }

# busybox_links SKIP... prints the applet symlinks ("path": "/bin/busybox"),
# without the applets named in SKIP (the image has its own of those): at
# busybox's own paths (/sbin/sysctl, ...) as in Alpine, or with BUSYBOX_FLAT=1
# all in /bin, as upstream's busybox image (tests run /bin/sysctl).
busybox_links() {
	local skip=" $* " a
	while read -r a; do
		[[ "${skip}" == *" ${a##*/} "* ]] && continue
		[[ "${BUSYBOX_FLAT:-0}" == 1 ]] && a="bin/${a##*/}"
		printf '"/%s": "/bin/busybox",' "${a}"
	done < <("${BUSYBOX}" --list-full)
}

# agnhost_image KEY REF ENTRYPOINT CMD [EXTRA_FILES_JSON]: agnhost at /agnhost as
# upstream with porter's TLS pair at /localhost.crt and .key (porter serves
# TLS with it; StatefulSet tests probe the file over HTTP), the host tools, busybox for the rest of a shell's commands. /bin/sh
# is bash, as in the busybox image (see there), and busybox's nc is left out:
# tests run the real (OpenBSD) nc, and ash would run its own applet instead.
# The link /.image makes every name its own image (a distinct ID), as upstream.
agnhost_image() {
	local key="$1" ref="$2" entrypoint="$3" cmd="$4" extra="${5:-}" h skip=(sh nc) hosts=""
	for h in "${HOST_TOOLS[@]}"; do skip+=("${h##*/}"); hosts+="\"${h}\","; done
	cat <<JSON
{"key": "${key}", "refs": $(jlist "${ref}"),
 "files": [{"src": "agnhost", "dst": "/agnhost"}, {"src": "${BUSYBOX}", "dst": "/bin/busybox"},
   {"src": "${UPSTREAM}/test/images/agnhost/porter/localhost.crt", "dst": "/localhost.crt", "mode": 420},
   {"src": "${UPSTREAM}/test/images/agnhost/porter/localhost.key", "dst": "/localhost.key", "mode": 420}${extra}],
 "hostPaths": [${hosts}"/etc/protocols", "/etc/services"],
 "links": {$(busybox_links "${skip[@]}") "/agnhost-2": "agnhost", "/bin/sh": "/usr/bin/bash", "/usr/bin/nc": "nc.openbsd",
   "/.image": "${ref}"},
 "entrypoint": ${entrypoint}, "cmd": ${cmd}}
JSON
}

spec="${OUT}/spec.json.tmp"
built=() missing=() n=0
{
	echo "["
	while read -r ref; do
		[[ -n "${ref}" ]] || continue
		name="${ref%:*}"; name="${name##*/}"; key="$(echo "${ref##*/}" | tr ':.' '--')"
		case "${ref}" in
		*/e2e-test-images/agnhost:*) img="$(agnhost_image "${key}" "${ref}" '["/agnhost"]' '["pause"]')" ;;
		# Update Demo: test-webserver serves /data.json, as upstream's image built on agnhost.
		*/e2e-test-images/kitten:* | */e2e-test-images/nautilus:*)
			img="$(agnhost_image "${key}" "${ref}" '["/agnhost"]' '["test-webserver"]' \
				", {\"src\": \"${UPSTREAM}/test/images/${name}/html/data.json\", \"dst\": \"/data.json\", \"mode\": 420}")" ;;
		# Debian bookworm with dnsutils upstream: the DNS tests run the same dig
		# loop in it as in agnhost, against glibc's resolver. The host is that Debian.
		*/e2e-test-images/glibc-dns-testing:*) img="$(agnhost_image "${key}" "${ref}" '[]' '["/bin/bash"]')" ;;
		# nginx as the tests use it: a web server on port 80 (agnhost test-webserver).
		*/e2e-test-images/nginx:*) img="$(agnhost_image "${key}" "${ref}" '["/agnhost", "test-webserver", "--port=80"]' '[]')" ;;
		# busybox, but /bin/sh is bash: Debian's busybox 1.35 ash (like dash) drops
		# environment variables whose names are not shell identifiers
		# ("data-1" of a ConfigMap's envFrom), which upstream's 1.37 passes on.
		*/e2e-test-images/busybox:*)
			img="{\"key\": \"${key}\", \"refs\": $(jlist "${ref}"), \"files\": [{\"src\": \"${BUSYBOX}\", \"dst\": \"/bin/busybox\"}],
 \"hostPaths\": [\"/usr/bin/bash\"], \"links\": {$(BUSYBOX_FLAT=1 busybox_links sh) \"/bin/sh\": \"/usr/bin/bash\", \"/.image\": \"${ref}\"}, \"cmd\": [\"sh\"]}" ;;
		*/e2e-test-images/sample-apiserver:*)
			img="{\"key\": \"${key}\", \"refs\": $(jlist "${ref}"), \"files\": [{\"src\": \"sample-apiserver\", \"dst\": \"/sample-apiserver\"}],
 \"entrypoint\": [\"/sample-apiserver\"]}" ;;
		# nnp prints its effective uid; setuid root, as upstream (chmod +s).
		*/e2e-test-images/nonewprivs:*)
			img="{\"key\": \"${key}\", \"refs\": $(jlist "${ref}"), \"files\": [{\"src\": \"nonewprivs\", \"dst\": \"/usr/local/bin/nnp\", \"mode\": 2541}],
 \"cmd\": [\"nnp\"]}" ;;
		registry.k8s.io/etcd:*)
			img="{\"key\": \"${key}\", \"refs\": $(jlist "${ref}"), \"files\": [{\"src\": \"etcd\", \"dst\": \"/usr/local/bin/etcd\"},
 {\"src\": \"etcdctl\", \"dst\": \"/usr/local/bin/etcdctl\"}, {\"src\": \"etcdutl\", \"dst\": \"/usr/local/bin/etcdutl\"}], \"cmd\": [\"/usr/local/bin/etcd\"]}" ;;
		registry.k8s.io/pause:*)
			img="{\"key\": \"${key}\", \"refs\": $(jlist "${ref}"), \"files\": [{\"src\": \"pause\", \"dst\": \"/pause\"}], \"entrypoint\": [\"/pause\"]}" ;;
		*) missing+=("${ref}"); continue ;;
		esac
		[[ ${n} == 0 ]] || echo ","
		echo "${img}"
		built+=("${ref}"); n=$((n + 1))
	done < <("${BIN_DIR}/${SUITE}" --list-images | sort -u)
	echo "]"
} > "${spec}"
mv "${spec}" "${OUT}/spec.json"

start=${SECONDS}
"${BIN_DIR}/imgtool" build -main=false -bin-dir "${BIN_DIR}" -out "${OUT}" -spec "${OUT}/spec.json"
printf '%s\n' "${missing[@]}" > "${OUT}/not-built.txt"
log "conformance images: ${#built[@]} built in $((SECONDS - start)) s -> ${OUT}; ${#missing[@]} not built (listed in ${OUT}/not-built.txt)"
