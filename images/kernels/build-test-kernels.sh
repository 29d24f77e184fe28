#!/bin/sh
# Build the real kernels the interface tests boot, from Debian's
# linux-source-6.1 (/usr/src/linux-source-6.1.tar.xz): tinyconfig plus
# images/configs/hvmatrix.config ("good"), and the same kernel broken in
# one interface only: break-vmware.patch ("vmware-broken": a panic in
# VMware platform setup, before the console is up) and break-xen-pv.patch
# ("xenpv-broken": a panic in Xen PV setup, not taken under PVH) and
# break-coinflip.patch ("coinflip": a panic on one boot in two, anywhere,
# after the console is up: a flaky kernel). Cached
# by inputs; each variant is an incremental build of the first (seconds).
# Usage: build-test-kernels.sh CACHEDIR; prints the four bzImage paths,
# in that order, then the two release variants, then the probe and drift
# variants below (each NAME.bzImage: tests pick them by name).
set -eu
cache=${1:?usage: build-test-kernels.sh CACHEDIR}
here=$(cd "$(dirname "$0")" && pwd)
fragment=$here/../configs/hvmatrix.config
variants="good vmware-broken:break-vmware.patch xenpv-broken:break-xen-pv.patch coinflip:break-coinflip.patch"
# Broken under one hypervisor release only (t-releases.sh): AVX2 used
# unasked (QEMU 5.2's TCG lacks it), Xen 4.15+ assumed (4.14 trips it).
variants="$variants qemu-avx2-broken:break-qemu-avx2.patch xen-4.14-broken:break-xen-4.14.patch"
# Boots everywhere but picks another clocksource under Xen (t-drift.sh):
# a fingerprint drift, never a FAIL.
variants="$variants clocksource-drift:break-clocksource.patch"
# Boots everywhere, dies after a Xen save/restore (t-suspend.sh): a panic
# in the resume half of the suspend path (drivers/xen/manage.c).
variants="$variants xen-resume-broken:break-xen-resume.patch"
# Boots everywhere, broken in a path only a probe takes (t-probes.sh): a
# Xen PV vCPU taken offline never comes back online.
variants="$variants xen-hotplug-broken:break-xen-hotplug.patch"
# Broken in the Xen HVM guest's init only (t-libxl-hvm.sh): a panic in
# xen_hvm_guest_init, which PVH guests run too but skip here, and PV never.
variants="$variants xen-hvm-broken:break-xen-hvm.patch"
tarball=/usr/src/linux-source-6.1.tar.xz
key=$(cat "$0" "$fragment" "$here/break-vmware.patch" \
	"$here/break-xen-pv.patch" "$here/break-coinflip.patch" \
	"$here/break-qemu-avx2.patch" "$here/break-xen-4.14.patch" \
	"$here/break-clocksource.patch" "$here/break-xen-resume.patch" \
	"$here/break-xen-hotplug.patch" "$here/break-xen-hvm.patch" |
	sha256sum | cut -c1-16)
dest=$cache/test-kernels-$key
list() {
	for v in $variants; do echo "$dest/${v%%:*}.bzImage"; done
}
if [ -f "$dest/complete" ]; then
	list
	exit 0
fi
[ -r "$tarball" ] || { echo "build-test-kernels.sh: $tarball missing (apt-get install linux-source-6.1)" >&2; exit 1; }
# The daemon's layout (build.c: ROOT/src and ROOT/out, CCACHE_BASEDIR=ROOT,
# CCACHE_NOHASHDIR): its builds of the same sources and config, as the
# tests' daemons make them (lib.sh gives them this compiler cache), hit
# what this compiled instead of compiling the kernel again.
root=$cache/test-kernels-build
src=$root/src
if [ ! -f "$src/.complete" ]; then
	echo "build-test-kernels.sh: unpacking $tarball" >&2
	rm -rf "$root" "$cache/linux-source-6.1" "$cache/test-kernels-out"
	mkdir -p "$root"
	tar -xf "$tarball" -C "$root"
	mv "$root/linux-source-6.1" "$src"
	touch "$src/.complete"
fi
out=$root/out
mkdir -p "$out" "$dest.tmp"
export CCACHE_DIR="$cache/ccache" CCACHE_BASEDIR="$root" CCACHE_NOHASHDIR=1
mk() { make -s -C "$src" O="$out" CC="ccache gcc" "$@"; }
# Never leave the tree patched, whatever happens below.
applied=
unapply() {
	[ -n "$applied" ] && (cd "$src" && patch -R -p1 -s < "$applied")
	applied=
}
trap unapply EXIT
echo "build-test-kernels.sh: tinyconfig + hvmatrix.config (a few minutes cold)" >&2
mk tinyconfig >/dev/null
"$src/scripts/kconfig/merge_config.sh" -m -O "$out" "$out/.config" \
	"$fragment" >/dev/null
mk olddefconfig >/dev/null
for v in $variants; do
	name=${v%%:*}
	case $v in
	*:*)
		applied=$here/${v#*:}
		echo "build-test-kernels.sh: $name (incremental)" >&2
		(cd "$src" && patch -p1 -s < "$applied")
		;;
	esac
	mk -j"$(nproc)" bzImage >&2
	cp "$out/arch/x86/boot/bzImage" "$dest.tmp/$name.bzImage"
	unapply
done
touch "$dest.tmp/complete"
rm -rf "$dest"
mv "$dest.tmp" "$dest"
list
