#!/usr/bin/env bash
# Install every Debian package hvmatrix needs (by name, from Debian's
# archive), fetch Debian's prebuilt kernel for the demo and the tests, and
# build hvmatrix. Safe to run again: it only does what is missing.
# --test-kernels (tools/test.sh) also builds the test suite's kernels
# (images/kernels/build-test-kernels.sh), in the background from the
# moment the compiler is installed: the fetches and debootstraps below
# wait mostly on the network meanwhile.
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"
test_kernels=
case ${1:-} in
--test-kernels) test_kernels=1 ;;
-h | --help)
	echo "usage: tools/setup.sh [--test-kernels]"
	exit 0 ;;
"") ;;
*) echo "usage: tools/setup.sh [--test-kernels]" >&2; exit 2 ;;
esac

packages=(
	build-essential autoconf automake libtool pkg-config
	libuv1-dev libgit2-dev libyaml-dev libcurl4-openssl-dev
	libsqlite3-dev libzstd-dev check
	qemu-system-x86 busybox-static cpio procps jq bc sqlite3 zstd
	libxen-dev debootstrap
	linux-source-6.1 flex bison libelf-dev libssl-dev ccache xz-utils patch git
	bubblewrap
	slurmctld slurmd slurm-client munge iproute2
	python3
	python3-jsonschema python3-rfc3987
	chromium chromium-driver python3-selenium time
	scdoc systemd man-db clang libclang-rt-14-dev
	kmod
)

say() { printf 'setup: %s\n' "$*" >&2; }

as_root() {
	if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi
}

missing=()
for p in "${packages[@]}"; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null |
		grep -q 'install ok installed' || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
	say "installing ${missing[*]}"
	as_root apt-get update -qq
	DEBIAN_FRONTEND=noninteractive as_root apt-get install -y -qq \
		--no-install-recommends "${missing[@]}" >/dev/null
fi

tk_pid=
if [ -n "$test_kernels" ]; then
	say "test kernels: building in the background (cached after the first time)"
	mkdir -p cache
	sh images/kernels/build-test-kernels.sh "$top/cache" \
		> cache/test-kernels.log 2>&1 &
	tk_pid=$!
fi

# Debian's kernel, unpacked into cache/ without installing it.
if ! apt-cache show linux-image-amd64 >/dev/null 2>&1; then
	as_root apt-get update -qq
fi
kernel=$(sh images/fetch-debian-kernel.sh "$top/cache/debian-kernel")
printf '%s\n' "$kernel" > cache/debian-kernel.path
# Xen 4.17, Debian's build, for the xen cells (unpacked, not installed).
sh images/xen/fetch-xen.sh "$top/cache/xen" 4.17 >/dev/null
# The hypervisor releases cells name (qemu: "10.0", xen: "4.20"): Debian's
# builds, each unpacked under cache/qemu/ or cache/xen/ with its firmware.
say "hypervisor releases (cached after the first fetch)"
bash images/hypervisors/fetch-releases.sh "$top/cache"
# The released kernels of the default matrix's web section (5.10, 6.1,
# 6.12, 7.x): Debian's images under cache/kernels/, never installed.
say "web kernels (cached after the first fetch)"
bash images/kernels/fetch-releases.sh "$top/cache"

if [ ! -x configure ] || [ configure.ac -nt configure ]; then
	say "autoreconf"
	autoreconf -fi >/dev/null 2>&1 || autoreconf -fi
fi
if [ ! -f Makefile ] || [ configure -nt Makefile ]; then
	say "configure"
	./configure -q
fi
say "make"
make -s -j"$(nproc)" >/dev/null

# The dom0 for xen-libxl cells: Debian's toolstack + our agent, built once
# (debootstrap, about a minute) and cached by its inputs.
# One per Xen release, whose toolstack is that release's (the agent is
# compiled in its build root): cache/dom0-R.path names each image;
# cache/dom0.path is 4.17's, under its name from before releases. The
# three build in parallel (debootstrap waits mostly on the network).
kroot=${kernel%/boot/*}
for r in 4.14 4.17 4.20; do
	say "dom0 image for Xen $r (cached after the first build)"
	sh images/xen/build-dom0.sh --release "$r" "$top/cache/xen" "$top" \
		"$kroot" > "cache/dom0-$r.path.tmp" &
done
for r in 4.14 4.17 4.20; do
	wait -n || { say "a dom0 image failed to build"; exit 1; }
done
for r in 4.14 4.17 4.20; do
	mv "cache/dom0-$r.path.tmp" "cache/dom0-$r.path"
done
cp cache/dom0-4.17.path cache/dom0.path.tmp && mv cache/dom0.path.tmp cache/dom0.path
if [ -n "$tk_pid" ]; then
	say "test kernels: waiting for the build"
	# Not fatal: the tests that boot them fail, naming what is missing.
	wait "$tk_pid" || { say "cannot build the test kernels:"; \
		tail -20 cache/test-kernels.log >&2; }
fi
say "ready: $top/hvmatrix, kernel $kernel, dom0 $(cat cache/dom0-4.14.path \
	cache/dom0-4.17.path cache/dom0-4.20.path | tr '\n' ' ')"
